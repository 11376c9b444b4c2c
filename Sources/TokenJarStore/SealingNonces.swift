import NIOConcurrencyHelpers

/// The 96-bit AES-GCM nonces of `SealingKeyring.seal`: a random 64-bit prefix drawn once per
/// process, followed by a 32-bit counter. The prefix is drawn again before the counter would
/// wrap, so within a process no nonce repeats; across processes (restarts, several instances
/// sharing a key) two prefixes coincide with probability about P²/2⁶⁵ for P prefixes ever
/// drawn, and only then can nonces meet. That is far below the collision risk of fully random
/// 96-bit nonces for the same number of sealed values, and it costs no system call per value.
final class SealingNonces: Sendable {
    private struct State {
        var prefix: UInt64
        var counter: UInt32
    }

    private let state: NIOLockedValueBox<State>

    /// `counter` is where the count starts (tests start it near the wrap).
    init(counter: UInt32 = 0) { state = NIOLockedValueBox(State(prefix: Self.randomPrefix(), counter: counter)) }

    /// The nonces of this process.
    static let shared = SealingNonces()

    private static func randomPrefix() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// The next nonce, as (prefix, counter); never the same twice in this process.
    func next() -> (prefix: UInt64, counter: UInt32) {
        state.withLockedValue { state in
            if state.counter == .max {
                let spent = state.prefix
                repeat { state.prefix = Self.randomPrefix() } while state.prefix == spent
                state.counter = 0
            }
            defer { state.counter += 1 }
            return (state.prefix, state.counter)
        }
    }

    /// The next nonce, as 12 bytes: the prefix then the counter, both big-endian.
    func nextBytes() -> [UInt8] {
        withNextBytes { Array($0) }
    }

    /// Calls `body` with the next nonce's 12 bytes (no allocation).
    func withNextBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let (prefix, counter) = next()
        var bytes = (prefix.bigEndian, counter.bigEndian)
        assert(MemoryLayout.size(ofValue: bytes) == 12)
        return try withUnsafeBytes(of: &bytes) { try body($0) }
    }
}
