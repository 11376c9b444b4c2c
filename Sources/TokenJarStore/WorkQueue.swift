import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// A FIFO of jobs for dedicated threads: producers push without blocking (beyond a short lock),
/// consumers block on a condition variable until there is work or the queue is closed.
///
/// A producer on an event loop may defer the wake-up to the end of the loop's tick
/// (`push(_:groupedOn:)`): the jobs of one tick then reach a sleeping consumer together,
/// instead of the first one waking it to run alone. A consumer that comes back for more takes
/// whatever is queued, woken or not.
final class WorkQueue<Job: Sendable>: @unchecked Sendable {
    /// Guards `jobs`, `closed` and `wakesPending`.
    private let condition = NSCondition()
    private var jobs = CircularBuffer<Job>()
    private var closed = false
    /// Producers (event loops) that queued jobs without waking a consumer and will call
    /// `wake(for:)`.
    private var wakesPending: [ObjectIdentifier] = []

    /// Appends a job and wakes a consumer; false when the queue is closed (the job was not taken).
    func push(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    private enum DeferredPush {
        /// The queue is closed: the job was not taken.
        case closed
        /// Queued; a wake-up for this producer is pending already.
        case queued
        /// Queued; the producer must call `wake(for:)` once its current work is done.
        case wakeLater
    }

    /// Appends a job without waking a consumer. The first such job of `producer` asks it to
    /// call `wake(for:)` later; until then the job waits for a consumer that comes back by itself.
    private func push(_ job: Job, wakeLaterFor producer: ObjectIdentifier) -> DeferredPush {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return .closed }
        jobs.append(job)
        if wakesPending.contains(producer) { return .queued }
        wakesPending.append(producer)
        return .wakeLater
    }

    /// The wake-up a `.wakeLater` push asked for.
    private func wake(for producer: ObjectIdentifier) {
        condition.lock()
        defer { condition.unlock() }
        if let i = wakesPending.firstIndex(of: producer) { wakesPending.remove(at: i) }
        if !jobs.isEmpty { condition.signal() }
    }

    /// Appends a job handed in by `eventLoop`. On the loop itself the consumer is woken once,
    /// by a task the loop runs after its tick's I/O events, for all the jobs of that tick; off
    /// the loop it is woken at once. False when the queue is closed (the job was not taken).
    func push(_ job: Job, groupedOn eventLoop: any EventLoop) -> Bool {
        guard eventLoop.inEventLoop else { return push(job) }
        let producer = ObjectIdentifier(eventLoop)
        switch push(job, wakeLaterFor: producer) {
        case .closed:
            return false
        case .queued:
            return true
        case .wakeLater:
            eventLoop.execute { self.wake(for: producer) }
            return true
        }
    }

    /// Waits for work and takes up to `max` jobs. An empty result means the queue is closed and
    /// drained: the consumer should stop.
    func pop(max: Int) -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !closed { condition.wait() }
        var batch: [Job] = []
        batch.reserveCapacity(min(max, jobs.count))
        while batch.count < max, let job = jobs.popFirst() { batch.append(job) }
        // Another consumer takes what this one left.
        if !jobs.isEmpty { condition.signal() }
        return batch
    }

    /// Refuses new jobs; jobs already queued are still handed out.
    /// Returns false when the queue was closed already.
    @discardableResult
    func close() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let wasOpen = !closed
        closed = true
        condition.broadcast()
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
