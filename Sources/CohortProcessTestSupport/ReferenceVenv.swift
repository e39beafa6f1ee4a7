// The reference venv that `make deps` creates (checks/support/reference-venv.sh) with the
// implementations tests compare Cohort against (numpy, TensorBoard's reader, PyTorch):
// ${COHORT_VENV:-~/.cache/cohort-venv}. Tests that need it fail when it is missing — a
// skip would hide a broken install step.
import Foundation

/// Where the reference venv's python is.
public enum ReferenceVenv {
    /// `$COHORT_VENV/bin/python3` (default venv `~/.cache/cohort-venv`).
    public static var python: String {
        (ProcessInfo.processInfo.environment["COHORT_VENV"] ?? NSHomeDirectory() + "/.cache/cohort-venv") + "/bin/python3"
    }
}
