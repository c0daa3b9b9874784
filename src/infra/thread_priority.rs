//! A thread's CPU priority. Linux keeps a nice value per thread, and raising one's own needs no
//! privilege: a background thread can step aside for the threads that answer callers whenever
//! the cores are contended, and runs at full speed when they are not.

/// Lowers the calling thread's priority to `nice` (0 is the default, 19 the lowest). Never
/// raises it: a thread already nicer stays as it is.
pub fn lower_this_thread(nice: i32) -> std::io::Result<()> {
    let me = rustix::thread::gettid();
    let current = rustix::process::getpriority_process(Some(me))?;
    if current >= nice {
        return Ok(());
    }
    rustix::process::setpriority_process(Some(me), nice)?;
    Ok(())
}

/// The calling thread's nice value.
pub fn this_thread_nice() -> std::io::Result<i32> {
    Ok(rustix::process::getpriority_process(Some(rustix::thread::gettid()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowering_a_thread_leaves_the_others_as_they_were() {
        let before = this_thread_nice().unwrap();
        let lowered = std::thread::spawn(|| {
            lower_this_thread(10).unwrap();
            this_thread_nice().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, 10.max(before), "the spawned thread runs at nice 10");
        assert_eq!(this_thread_nice().unwrap(), before, "the calling thread keeps its priority");
    }

    #[test]
    fn a_thread_already_nicer_is_not_raised() {
        let nice = std::thread::spawn(|| {
            lower_this_thread(15).unwrap();
            lower_this_thread(10).unwrap();
            this_thread_nice().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(nice, 15);
    }
}
