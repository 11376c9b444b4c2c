import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// A FIFO of jobs for dedicated threads: producers push without blocking (beyond a short lock),
/// consumers block on a condition variable until there is work or the queue is closed.
final class WorkQueue<Job: Sendable>: @unchecked Sendable {
    // Condition value 1: there are jobs, or the queue is closed. `jobs` and `closed` are guarded
    // by the condition lock.
    private let condition = ConditionLock(value: 0)
    private var jobs = CircularBuffer<Job>()
    private var closed = false

    /// Appends a job; false when the queue is closed (the job was not taken).
    func push(_ job: Job) -> Bool {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return false
        }
        jobs.append(job)
        condition.unlock(withValue: 1)
        return true
    }

    /// Waits for work and takes up to `max` jobs. An empty result means the queue is closed and
    /// drained: the consumer should stop.
    func pop(max: Int) -> [Job] {
        condition.lock(whenValue: 1)
        var batch: [Job] = []
        batch.reserveCapacity(min(max, jobs.count))
        while batch.count < max, let job = jobs.popFirst() { batch.append(job) }
        condition.unlock(withValue: jobs.isEmpty && !closed ? 0 : 1)
        return batch
    }

    /// Refuses new jobs; jobs already queued are still handed out.
    /// Returns false when the queue was closed already.
    @discardableResult
    func close() -> Bool {
        condition.lock()
        let wasOpen = !closed
        closed = true
        condition.unlock(withValue: 1)
        return wasOpen
    }

    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

    /// Jobs waiting to be taken.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }
}

/// A one-time event that async code can wait for, signalled from a plain thread.
final class ThreadExit: Sendable {
    private struct State {
        var remaining: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: NIOLockedValueBox<State>

    /// Signalled once `count` threads have called `threadDidExit`.
    init(count: Int) { state = NIOLockedValueBox(State(remaining: count)) }

    func threadDidExit() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.remaining -= 1
            guard state.remaining == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state in
                if state.remaining <= 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// Moves a value that is not `Sendable` to the one thread that will own it from then on.
struct Handover<Value>: @unchecked Sendable {
    let value: Value
}

/// Starts a named thread for a long-lived loop.
func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.start()
}

/// Unix seconds now.
func unixNow() -> Int64 { Int64(Date().timeIntervalSince1970) }

/// A thread that runs jobs against its own SQLite context (the writer, the reader pool), with
/// the future- and async-shaped forms of submitting one derived from the callback form.
protocol SQLiteJobSubmitting: Sendable {
    associatedtype Context

    /// Queues `body`; `completion` gets its result, or `StoreError.closed` after shutdown.
    func submit<R: Sendable>(
        _ body: @escaping @Sendable (Context) throws -> R,
        completion: @escaping @Sendable (Result<R, Error>) -> Void)
}

extension SQLiteJobSubmitting {
    func submit<R: Sendable>(on eventLoop: any EventLoop, _ body: @escaping @Sendable (Context) throws -> R) -> EventLoopFuture<R> {
        let promise = eventLoop.makePromise(of: R.self)
        submit(body) { promise.completeWith($0) }
        return promise.futureResult
    }

    func submit<R: Sendable>(_ body: @escaping @Sendable (Context) throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            submit(body) { continuation.resume(with: $0) }
        }
    }
}
