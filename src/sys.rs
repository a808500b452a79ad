//! Every call into the C library that Rust cannot check: the real uid, the passwd entry,
//! the host name, signals to a process group, terminal echo, and detaching a child into
//! its own session. The rest of the crate denies `unsafe`; each call here says why it is
//! sound, and each wrapper is safe to call.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::process::Command;

/// The real user id of this process.
pub fn uid() -> u32 {
    // SAFETY: getuid takes no argument, touches no memory of ours and cannot fail.
    unsafe { libc::getuid() }
}

/// The login name of `uid` in the passwd database, if it has a non-empty one.
pub fn passwd_name(uid: u32) -> Option<String> {
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        // SAFETY: `passwd` is a plain C struct; all-zero (null pointers, zero ids) is a
        // valid value of it, and getpwuid_r overwrites it before we read it.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `pwd` and `result` are live locals; `buf` is live for the call and
        // `buf.len()` is its real length, so getpwuid_r writes only inside it.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success `pw_name` is non-null (checked above) and points to a
        // NUL-terminated string inside `buf`, which outlives this borrow.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) }
            .to_string_lossy()
            .into_owned();
        return (!name.is_empty()).then_some(name);
    }
}

/// The host name, if the system gives one.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, a live local array; gethostname
    // writes at most `buf.len()` bytes into it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

/// Sends SIGKILL to the process group `pgid` (a group this process created).
pub fn kill_process_group(pgid: i32) {
    // SAFETY: kill only sends a signal; it reads and writes no memory of ours. A negative
    // pid names a process group; callers pass the group of a child they spawned with
    // `process_group(0)`, so no unrelated process is hit.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Makes `command`'s child start a new session (setsid) before it runs, so closing the
/// terminal or Ctrl-C there does not reach it.
pub fn detach_into_new_session(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: setsid is one, and the closure allocates
    // nothing and takes no lock (last_os_error only reads errno).
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Turns terminal echo off on stdin until dropped (for typing a key).
#[must_use = "echo comes back when this is dropped"]
pub struct EchoOff {
    saved: Option<libc::termios>,
}

impl EchoOff {
    pub fn hide() -> EchoOff {
        // SAFETY: `termios` is a plain C struct; all-zero is a valid value, and tcgetattr
        // fills it before we read it. Both calls get a pointer to a live local and fd 0,
        // which is open for the life of the process; on a non-terminal they fail and we
        // change nothing.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return EchoOff { saved: None };
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            EchoOff { saved: Some(saved) }
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(t) = self.saved {
            // SAFETY: restores, on the same fd, the attributes tcgetattr read in `new`;
            // `t` is a live local.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
}

/// Keeps keys out of core dumps: the core file size limit goes to 0 (inherited by every
/// command keywarden runs) and, on Linux, the process is marked not dumpable, which also
/// keeps other processes of the same user from attaching to it or reading its memory
/// through `/proc`. Best effort: a refusal is never fatal.
pub fn no_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct we pass, a live local, and nothing else.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) takes integers only and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0)
    };
}

/// Asks the kernel to keep `len` bytes at `ptr` out of swap. Best effort (the limit for
/// locked memory is often small): returns whether it worked; the caller unlocks with
/// [`munlock`] before the memory is freed.
pub fn mlock(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    // SAFETY: the pointer and length describe a live slice; mlock only changes how the
    // kernel pages that range and never writes to it.
    unsafe { libc::mlock(bytes.as_ptr().cast(), bytes.len()) == 0 }
}

/// Undoes [`mlock`].
pub fn munlock(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // SAFETY: as for mlock: a live slice, and munlock never touches its content.
    unsafe { libc::munlock(bytes.as_ptr().cast(), bytes.len()) };
}

/// The child that [`forward_signals`] sends SIGTERM, SIGINT and SIGHUP to (0: none).
static FORWARD_TO: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel hands an SA_SIGINFO handler a valid siginfo (checked non-null).
    let from_terminal = !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL;
    let pid = FORWARD_TO.load(std::sync::atomic::Ordering::SeqCst);
    // A signal from the terminal (Ctrl-C, a hang-up) already reached the child through
    // its process group: sent once, not twice.
    if pid > 0 && !from_terminal {
        // SAFETY: kill is async-signal-safe and touches no memory of ours; `pid` is a
        // child this process spawned and has not reaped yet.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// From now on SIGTERM, SIGINT and SIGHUP sent to this process are sent on to `pid` (a
/// child it spawned) instead of ending it; `0` stops forwarding (the signals are then
/// ignored until the process exits).
pub fn forward_signals(pid: u32) {
    FORWARD_TO.store(pid as i32, std::sync::atomic::Ordering::SeqCst);
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: `act` is a zeroed plain C struct then filled in; the handler only reads
        // an atomic and calls kill, both async-signal-safe.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = forward_signal as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

/// Waits until child `pid` has ended, without reaping it: while it is a zombie its pid
/// cannot be given to another process, so a signal [`forward_signals`] sends meanwhile
/// never reaches a stranger. The caller reaps it after (`Child::wait`).
pub fn wait_exited(pid: u32) {
    loop {
        // SAFETY: `info` is a zeroed plain C struct the kernel fills in; WNOWAIT leaves the
        // child to be reaped by its `Child`.
        let r = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Set by [`stop_on_signals`]'s handler.
static STOP_ASKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn ask_stop(_: libc::c_int) {
    STOP_ASKED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// From now on SIGTERM and SIGINT do not end this process but set a flag that
/// [`stop_asked`] reads, so a long-running command can finish what it has queued first.
pub fn stop_on_signals() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: `act` is a zeroed plain C struct then filled in; the handler only stores
        // to an atomic, which is async-signal-safe.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = ask_stop as *const () as usize;
            act.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

/// Whether SIGTERM or SIGINT came since [`stop_on_signals`].
pub fn stop_asked() -> &'static std::sync::atomic::AtomicBool {
    &STOP_ASKED
}
