#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// An exclusive advisory lock (`flock`) on a small file beside the database, held while a store
/// is open, so two gateways (or two stores in one process) never serve from one file: each
/// would cache jars as if it were the only writer.
///
/// A separate file, not the database itself: closing any descriptor of the database would drop
/// SQLite's own POSIX locks of this process.
final class FileLock: Sendable {
    private let descriptor: NIOLockedValueBox<Int32>

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError.unavailable.with(detail: "cannot open the lock file (errno \(errno))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(fd)
            if error == EWOULDBLOCK {
                throw StoreError.unavailable.with(detail: "the database is in use by another store")
            }
            throw StoreError.unavailable.with(detail: "cannot lock the lock file (errno \(error))")
        }
        descriptor = NIOLockedValueBox(fd)
    }

    /// Releases the lock. Idempotent.
    func release() {
        descriptor.withLockedValue { fd in
            guard fd >= 0 else { return }
            // Unlock first: a child process forked meanwhile may share the descriptor until its
            // exec closes it, and closing ours alone would leave the lock held until then.
            _ = flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
