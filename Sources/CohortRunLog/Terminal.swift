// Whether standard error is a terminal and how wide it is (TIOCGWINSZ), for the
// progress bar's choice between a live line and plain periodic lines.
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Facts about a file descriptor's terminal.
public enum Terminal {
    /// Whether `fd` is a terminal (isatty).
    public static func isTerminal(_ fd: Int32 = STDERR_FILENO) -> Bool { isatty(fd) == 1 }

    /// Columns of the terminal on `fd` from the TIOCGWINSZ ioctl; `fallback` when it is not a terminal or reports 0.
    public static func width(_ fd: Int32 = STDERR_FILENO, fallback: Int = 80) -> Int {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return fallback }
        return Int(size.ws_col)
    }
}
