// The generated detection scenes: deterministic per seed and scene, boxes inside the
// canvas, tight around their ink, never overlapping, with the source image's class.
import CohortData
import Foundation
import Testing

@Suite struct DetectionScenesTests {
    /// Three 28×28 "digits": filled squares of different sizes and places, labels 3, 7, 1.
    func digits() throws -> (IDXArray, IDXArray) {
        var bytes = [UInt8](repeating: 0, count: 3 * 784)
        for (k, (a, b)) in [(4, 20), (10, 26), (0, 28)].enumerated() {
            for y in a..<b { for x in a..<b { bytes[k * 784 + y * 28 + x] = 200 } }
        }
        return (try IDXArray(shape: [3, 28, 28], bytes: bytes), try IDXArray(shape: [3], bytes: [3, 7, 1]))
    }

    @Test func scenesAreDeterministicPerSeedAndIndex() throws {
        let (images, labels) = try digits()
        let a = try DetectionScenes.make(images: images, labels: labels, count: 6, seed: 42)
        let b = try DetectionScenes.make(images: images, labels: labels, count: 6, seed: 42)
        let c = try DetectionScenes.make(images: images, labels: labels, count: 6, seed: 43)
        let tail = try DetectionScenes.make(images: images, labels: labels, count: 2, seed: 42, first: 4)
        #expect(a == b && a != c && Array(a[4...]) == tail)
    }

    @Test func boxesAreTightDisjointAndLabelled() throws {
        let (images, labels) = try digits()
        let scenes = try DetectionScenes.make(images: images, labels: labels, count: 40, seed: 7)
        #expect(scenes.map(\.objects.count).reduce(0, +) >= 80)   // 2…5 per scene, few left out
        for scene in scenes {
            for (i, o) in scene.objects.enumerated() {
                #expect(o.x0 >= 0 && o.y0 >= 0 && o.x1 <= 96 && o.y1 <= 96 && o.x0 < o.x1 && o.y0 < o.y1)
                #expect(o.label == [3, 7, 1][o.source])
                // Tight: ink on the box's first and last rows and columns.
                let rowInk = { (y: Int) in (o.x0..<o.x1).contains { scene.pixels[y * 96 + $0] > 0 } }
                let colInk = { (x: Int) in (o.y0..<o.y1).contains { scene.pixels[$0 * 96 + x] > 0 } }
                #expect(rowInk(o.y0) && rowInk(o.y1 - 1) && colInk(o.x0) && colInk(o.x1 - 1))
                for p in scene.objects[(i + 1)...] {
                    #expect(o.x1 <= p.x0 || p.x1 <= o.x0 || o.y1 <= p.y0 || p.y1 <= o.y0, "overlap \(o) \(p)")
                }
            }
        }
    }

    @Test func annotationsAreJSON() throws {
        let (images, labels) = try digits()
        let scenes = try DetectionScenes.make(images: images, labels: labels, count: 2, seed: 1)
        let text = DetectionScenes.annotationsJSON(scenes, files: ["a.png", "b.png"])
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let list = object?["images"] as? [[String: Any]]
        #expect(object?["canvas"] as? Int == 96 && list?.count == 2 && list?[0]["file"] as? String == "a.png")
        #expect((list?[1]["objects"] as? [[String: Any]])?.count == scenes[1].objects.count)
        #expect(throws: (any Error).self) { _ = try DetectionScenes.make(images: labels, labels: labels, count: 1, seed: 0) }
    }
}
