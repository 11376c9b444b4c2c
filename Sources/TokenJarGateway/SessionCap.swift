import NIOConcurrencyHelpers
import NIOCore
import TokenJarStore

/// The cap on stored sessions (`sessions.max_sessions`).
///
/// Counting is cheap: an estimate is raised by one per admitted mint and replaced by the store's
/// own count at start and after every sweep, so the data plane never counts rows. At the cap a
/// mint first makes room by evicting a batch of the least recently seen idle anonymous sessions
/// (one eviction at a time, however many mints wait on it); when nothing can be evicted the
/// mint is refused.
final class SessionCap: Sendable {
    let limit: Int
    /// Sessions evicted per round: a thousandth of the cap, between 1 and 1,000, so a flood at
    /// the cap costs one store call per batch rather than one per mint.
    let evictionBatch: Int

    private struct State {
        var estimate = 0
        var eviction: EventLoopFuture<Bool>?
    }

    private let state = NIOLockedValueBox(State())
    private let store: any SessionStore
    private let sessions: SessionManager

    /// nil when `limit` is 0 (no cap).
    init?(limit: Int, store: any SessionStore, sessions: SessionManager) {
        guard limit > 0 else { return nil }
        self.limit = limit
        self.evictionBatch = min(1_000, max(1, limit / 1_000))
        self.store = store
        self.sessions = sessions
    }

    /// Sessions the cap believes are stored.
    var estimate: Int { state.withLockedValue { $0.estimate } }

    /// Replaces the estimate with the store's count.
    func refresh(storedSessions: Int) { state.withLockedValue { $0.estimate = storedSessions } }

    /// Counts one mint when there is room; false at the cap (nothing counted).
    func reserve() -> Bool {
        state.withLockedValue { state in
            guard state.estimate < limit else { return false }
            state.estimate += 1
            return true
        }
    }

    /// Admits one mint: nil when admitted at once; otherwise a future of whether room was made
    /// (the mint is then counted) — false when no idle anonymous session could be evicted.
    func admit(now: Int64, on loop: any EventLoop) -> EventLoopFuture<Bool>? {
        reserve() ? nil : admitAfterEviction(now: now, on: loop, rounds: 3)
    }

    private func admitAfterEviction(now: Int64, on loop: any EventLoop, rounds: Int) -> EventLoopFuture<Bool> {
        makeRoom(now: now, on: loop).flatMap { evicted in
            guard evicted else { return loop.makeSucceededFuture(false) }
            if self.reserve() { return loop.makeSucceededFuture(true) }
            // Others took the room first.
            return rounds > 1 ? self.admitAfterEviction(now: now, on: loop, rounds: rounds - 1) : loop.makeSucceededFuture(false)
        }
    }

    /// One eviction round, shared by every mint that waits while it runs. Sessions seen in the
    /// current second are not idle and stay.
    private func makeRoom(now: Int64, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let (future, promise) = state.withLockedValue { state -> (EventLoopFuture<Bool>, EventLoopPromise<Bool>?) in
            if let running = state.eviction { return (running, nil) }
            let promise = loop.makePromise(of: Bool.self)
            state.eviction = promise.futureResult
            return (promise.futureResult, promise)
        }
        if let promise {
            let batch = evictionBatch
            promise.completeWithTask {
                defer { self.state.withLockedValue { $0.eviction = nil } }
                let evicted = try await self.store.evictIdleAnonymous(count: batch, lastSeenBefore: now)
                for hash in evicted { self.sessions.forget(hash) }
                self.state.withLockedValue { $0.estimate = max(0, $0.estimate - evicted.count) }
                return !evicted.isEmpty
            }
        }
        return future.hop(to: loop)
    }
}
