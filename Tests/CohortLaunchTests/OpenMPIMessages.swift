// OpenMPI 4.1.4's stderr for each fault, captured verbatim (mpirun's exit
// status noted) by provoking the fault on this machine; `ORTE daemon has
// unexpectedly failed` could not be provoked and is copied from
// /usr/share/openmpi/help-errmgr-base.txt.

/// Real mpirun stderr texts and exit statuses.
enum OpenMPIMessages {
    /// np=2, `sh -c` rank 1 does `kill -9 $$` after 0.5 s; mpirun exited 137.
    static let rankKilled = #"""
    --------------------------------------------------------------------------
    Primary job  terminated normally, but 1 process returned
    a non-zero exit code. Per user-direction, the job has been aborted.
    --------------------------------------------------------------------------
    --------------------------------------------------------------------------
    mpirun noticed that process rank 1 with PID 0 on node vm exited on signal 9 (Killed).
    --------------------------------------------------------------------------
    """#

    /// np=2, a C MPI program whose rank 1 dereferences NULL after MPI_Init; mpirun exited 139.
    static let rankSegfault = #"""
    [vm:03888] *** Process received signal ***
    [vm:03888] Signal: Segmentation fault (11)
    [vm:03888] Signal code: Address not mapped (1)
    [vm:03888] Failing at address: (nil)
    [vm:03888] [ 0] /lib/x86_64-linux-gnu/libc.so.6(+0x3c050)[0x7f7ddb409050]
    [vm:03888] [ 1] ./m(+0x122b)[0x55865588d22b]
    [vm:03888] [ 2] /lib/x86_64-linux-gnu/libc.so.6(+0x2724a)[0x7f7ddb3f424a]
    [vm:03888] [ 3] /lib/x86_64-linux-gnu/libc.so.6(__libc_start_main+0x85)[0x7f7ddb3f4305]
    [vm:03888] [ 4] ./m(+0x10e1)[0x55865588d0e1]
    [vm:03888] *** End of error message ***
    --------------------------------------------------------------------------
    Primary job  terminated normally, but 1 process returned
    a non-zero exit code. Per user-direction, the job has been aborted.
    --------------------------------------------------------------------------
    --------------------------------------------------------------------------
    mpirun noticed that process rank 1 with PID 0 on node vm exited on signal 11 (Segmentation fault).
    --------------------------------------------------------------------------
    """#

    /// np=2, rank 1 exits 2 after 0.5 s; mpirun exited 2.
    static let rankExit2 = #"""
    --------------------------------------------------------------------------
    Primary job  terminated normally, but 1 process returned
    a non-zero exit code. Per user-direction, the job has been aborted.
    --------------------------------------------------------------------------
    --------------------------------------------------------------------------
    mpirun detected that one or more processes exited with non-zero status, thus causing
    the job to be terminated. The first process to do so was:

      Process name: [[25124,1],1]
      Exit code:    2
    --------------------------------------------------------------------------
    """#

    /// np=2, both ranks `exit 2` at once: only the banner, no rank named; mpirun exited 2.
    static let allExit2Immediately = #"""
    --------------------------------------------------------------------------
    Primary job  terminated normally, but 1 process returned
    a non-zero exit code. Per user-direction, the job has been aborted.
    --------------------------------------------------------------------------
    """#

    /// np=2, rank 1 calls MPI_Abort(MPI_COMM_WORLD, 3); mpirun exited 3.
    static let mpiAbort = #"""
    --------------------------------------------------------------------------
    MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD
    with errorcode 3.

    NOTE: invoking MPI_ABORT causes Open MPI to kill all MPI processes.
    You may or may not see output from other processes, depending on
    exactly when Open MPI kills them.
    --------------------------------------------------------------------------
    """#

    /// np=2, rank 1 calls exit(0) after MPI_Init without MPI_Finalize; mpirun exited 1.
    static let exitWithoutFinalize = #"""
    --------------------------------------------------------------------------
    mpirun has exited due to process rank 1 with PID 0 on
    node vm exiting improperly. There are three reasons this could occur:

    1. this process did not call "init" before exiting, but others in
    the job did. This can cause a job to hang indefinitely while it waits
    for all processes to call "init". By rule, if one process calls "init",
    then ALL processes must call "init" prior to termination.

    2. this process called "init", but exited without calling "finalize".
    By rule, all processes that call "init" MUST call "finalize" prior to
    exiting or it will be considered an "abnormal termination"

    3. this process called "MPI_Abort" or "orte_abort" and the mca parameter
    orte_create_session_dirs is set to false. In this case, the run-time cannot
    detect that the abort call was an abnormal termination. Hence, the only
    error message you will receive is this one.

    This may have caused other processes in the application to be
    terminated by signals sent by mpirun (as reported here).

    You can avoid this message by specifying -quiet on the mpirun command line.
    --------------------------------------------------------------------------
    """#

    /// -np 3 --host localhost:2; mpirun exited 1.
    static let notEnoughSlots = #"""
    --------------------------------------------------------------------------
    There are not enough slots available in the system to satisfy the 3
    slots that were requested by the application:

      true

    Either request fewer slots for your application, or make more slots
    available for use.

    A "slot" is the Open MPI term for an allocatable unit where we can
    launch a process.  The number of slots available are defined by the
    environment in which Open MPI processes are run:

      1. Hostfile, via "slots=N" clauses (N defaults to number of
         processor cores if not provided)
      2. The --host command line parameter, via a ":N" suffix on the
         hostname (N defaults to 1 if not provided)
      3. Resource manager (e.g., SLURM, PBS/Torque, LSF, etc.)
      4. If none of a hostfile, the --host command line parameter, or an
         RM is present, Open MPI defaults to the number of processor cores

    In all the above cases, if you want Open MPI to default to the number
    of hardware threads instead of the number of processor cores, use the
    --use-hwthread-cpus option.

    Alternatively, you can use the --oversubscribe option to ignore the
    number of available slots when deciding the number of processes to
    launch.
    --------------------------------------------------------------------------
    """#

    /// -np 1 /nonexistent/prog; mpirun exited 132.
    static let missingExecutable = #"""
    --------------------------------------------------------------------------
    mpirun was unable to launch the specified application as it could not access
    or execute an executable:

    Executable: /nonexistent/prog
    Node: vm

    while attempting to start process rank 0.
    --------------------------------------------------------------------------
    """#

    /// mpirun --bogus-flag; mpirun exited 1.
    static let unknownOption = #"""
    mpirun: Error: unknown option "--bogus-flag"
    Type 'mpirun --help' for usage.
    """#

    /// 2 fake hosts (127.0.0.2, .3) through an rsh agent; `kill -9` of the orted of 127.0.0.3; mpirun exited 205.
    static let daemonLost = #"""
    --------------------------------------------------------------------------
    ORTE has lost communication with a remote daemon.

      HNP daemon   : [[25458,0],0] on node vm
      Remote daemon: [[25458,0],2] on node 127.0.0.3

    This is usually due to either a failure of the TCP network
    connection to the node, or possibly an internal failure of
    the daemon itself. We cannot recover from this failure, and
    therefore will terminate the job.
    --------------------------------------------------------------------------
    """#

    /// 2 fake hosts; the rsh agent refuses 127.0.0.3 the way ssh does; mpirun exited 255.
    static let daemonNotStarted = #"""
    ssh: connect to host 127.0.0.3 port 22: Connection refused
    --------------------------------------------------------------------------
    ORTE was unable to reliably start one or more daemons.
    This usually is caused by:

    * not finding the required libraries and/or binaries on
      one or more nodes. Please check your PATH and LD_LIBRARY_PATH
      settings, or configure OMPI with --enable-orterun-prefix-by-default

    * lack of authority to execute on one or more specified nodes.
      Please verify your allocation and authorities.

    * the inability to write startup files into /tmp (--tmpdir/orte_tmpdir_base).
      Please check with your sys admin to determine the correct location to use.

    *  compilation of the orted with dynamic libraries when static are required
      (e.g., on Cray). Please check your configure cmd line and consider using
      one of the contrib/platform definitions for your system type.

    * an inability to create a connection back to mpirun due to a
      lack of common network interfaces and/or no route found between
      them. Please check network connectivity (including firewalls
      and network routing requirements).
    --------------------------------------------------------------------------
    --------------------------------------------------------------------------
    ORTE does not know how to route a message to the specified daemon
    located on the indicated node:

      my node:   vm
      target node:  127.0.0.2

    This is usually an internal programming error that should be
    reported to the developers. In the meantime, a workaround may
    be to set the MCA param routed=direct on the command line or
    in your environment. We apologize for the problem.
    --------------------------------------------------------------------------
    """#

    /// help-errmgr-base.txt [failed-daemon], as mpirun prints it.
    static let daemonFailed = #"""
    --------------------------------------------------------------------------
    An ORTE daemon has unexpectedly failed after launch and before
    communicating back to mpirun. This could be caused by a number
    of factors, including an inability to create a connection back
    to mpirun due to a lack of common network interfaces and/or no
    route found between them. Please check network connectivity
    (including firewalls and network routing requirements).
    --------------------------------------------------------------------------
    """#

    /// Splits a captured text into lines, as SupervisedProcess.stderrTail holds them.
    static func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
}
