import NIOCore
import NIOPosix
import Testing
@testable import TokenJarGateway

/// The per-loop pool of keep-alive backend connections, driven on its loop against a real backend.
@Suite("Upstream pool")
struct UpstreamPoolTests {
    @Test("a released connection is reused; fresh opens another; one closed while idle leaves; closeAll empties")
    func reuse() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "ok") }
        defer { Task { await backend.stop() } }
        let loop = testGroup.next()
        let pool = try await loop.submit { NIOLoopBound(UpstreamPool(loop: loop), eventLoop: loop) }.get()
        let target = upstream(backend.port)

        // Acquire, release, acquire: the same connection, now marked reused; fresh: another one.
        let reuse = try await loop.flatSubmit {
            pool.value.acquire(target, connectTimeout: .seconds(2)).assumeIsolated().flatMap { first in
                let firstWasReused = first.reused
                pool.value.release(first)
                let idleAfterRelease = pool.value.idleCount
                return pool.value.acquire(target, connectTimeout: .seconds(2)).assumeIsolated().flatMap { second in
                    let idleAfterAcquire = pool.value.idleCount
                    return pool.value.acquire(target, connectTimeout: .seconds(2), fresh: true).assumeIsolated().map { third in
                        let result = [firstWasReused, second === first, second.reused, third !== second,
                                      idleAfterRelease == 1, idleAfterAcquire == 0]
                        pool.value.release(second)
                        pool.value.release(third)
                        return result
                    }.nonisolated()
                }.nonisolated()
            }.nonisolated()
        }.get()
        #expect(reuse == [false, true, true, true, true, true])
        #expect(try await loop.submit { pool.value.idleCount }.get() == 2)

        // A connection that closes while idle leaves the pool (no lookup: it knows its list).
        let closed = try await loop.flatSubmit {
            pool.value.acquire(target, connectTimeout: .seconds(2)).assumeIsolated().flatMap { conn in
                let before = pool.value.idleCount
                pool.value.release(conn)
                let during = pool.value.idleCount
                return conn.channel.close().flatMap { loop.submit { [before, during, pool.value.idleCount] } }
            }.nonisolated()
        }.get()
        #expect(closed == [1, 2, 1])

        // closeAll empties the pool and closes what comes back later.
        let afterCloseAll = try await loop.flatSubmit {
            pool.value.acquire(target, connectTimeout: .seconds(2)).assumeIsolated().flatMap { conn in
                pool.value.closeAll()
                let idle = pool.value.idleCount
                pool.value.release(conn)
                return conn.channel.closeFuture.map { [idle, pool.value.idleCount] }
            }.nonisolated()
        }.get()
        #expect(afterCloseAll == [0, 0])
    }
}
