// The modules a timeline (`cohort train --trace`) times: a model's named children and
// theirs, down to a depth, each registered with the recorder as a scope, so its forward
// (through `callAsFunction`) and the backward of the ops it recorded become events.
import CohortCore

extension Module {
    /// Registers this model's sub-modules with `recorder`, `depth` levels down (1: the
    /// top-level children only), named by their dotted path and type: `forward 0 (Linear)`.
    /// A module reached twice (shared) keeps its first name. Call before training starts.
    public func registerTraceScopes(in recorder: TraceRecorder, depth: Int = 2) {
        func visit(_ m: any Module, _ prefix: String, _ parent: Int32, _ level: Int) {
            guard level <= depth else { return }
            for (name, child) in m.children where recorder.scope(of: ObjectIdentifier(child)) == nil {
                let path = prefix + name
                let scope = recorder.registerScope(ObjectIdentifier(child), path: path, kind: String(describing: type(of: child)), parent: parent)
                visit(child, path + ".", scope, level + 1)
            }
        }
        visit(self, "", -1, 1)
    }
}
