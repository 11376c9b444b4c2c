import NIOCore
import NIOEmbedded
import Testing

@testable import TokenJarGateway

/// `ClientReadAhead` between a counter of the reads that reach the socket and a handler that
/// forwards or holds back the pipeline's reads, as NIO's pipelining helper does while a
/// response is under way.
@Suite("Client read-ahead: the socket stays registered while a response is under way")
struct ClientReadAheadTests {
    /// Counts the reads that reach the channel.
    final class SocketReads: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var count = 0
        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }

    /// Holds back reads while `holding`, and issues the held one on `release()`.
    final class Gate: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        var holding = false
        var held = false
        var received = 0
        var context: ChannelHandlerContext!
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
        }
        func read(context: ChannelHandlerContext) {
            if holding { held = true } else { context.read() }
        }
        func release() {
            holding = false
            if held {
                held = false
                context.read()
            }
        }
    }

    struct Setup {
        let channel = EmbeddedChannel()
        let socket = SocketReads()
        let readAhead: ClientReadAhead
        let gate = Gate()

        init(budget: Int) throws {
            readAhead = ClientReadAhead(budget: budget)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(socket)
            try pipeline.addHandler(readAhead)
            try pipeline.addHandler(gate)
        }

        /// One read event from the socket: the bytes, then read-complete.
        func arrive(_ count: Int) throws {
            try channel.writeInbound(ByteBuffer(repeating: 0x61, count: count))
        }

        /// Reads that reached the socket during `body`.
        func socketReads(during body: () throws -> Void) rethrows -> Int {
            let before = socket.count
            try body()
            return socket.count - before
        }
    }

    @Test("when the handlers behind ask for the next read, it passes through once and nothing is added")
    func passesThrough() throws {
        let setup = try Setup(budget: 100)
        #expect(try setup.socketReads { try setup.arrive(60) } == 1)
        #expect(setup.readAhead.unrequestedBytes == 0)
        #expect(setup.gate.received == 60)
    }

    @Test("when a read is held back, it reads on by itself, within the budget")
    func readsOnWhileHeld() throws {
        let setup = try Setup(budget: 100)
        setup.gate.holding = true
        #expect(try setup.socketReads { try setup.arrive(40) } == 1)
        #expect(setup.gate.held)
        #expect(try setup.socketReads { try setup.arrive(40) } == 1)
        #expect(setup.readAhead.unrequestedBytes == 80)
        // Past the budget the socket is let go: no read is issued.
        #expect(try setup.socketReads { try setup.arrive(40) } == 0)
        #expect(setup.gate.received == 120, "what was read is still delivered")
    }

    @Test("a read from the handlers behind starts the budget again")
    func releaseRestartsBudget() throws {
        let setup = try Setup(budget: 100)
        setup.gate.holding = true
        #expect(try setup.socketReads { try setup.arrive(150) } == 0)
        #expect(try setup.socketReads { setup.gate.release() } == 1)
        #expect(setup.readAhead.unrequestedBytes == 0)
        setup.gate.holding = true
        #expect(try setup.socketReads { try setup.arrive(50) } == 1)
    }
}
