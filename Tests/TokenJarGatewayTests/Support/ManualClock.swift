import NIOConcurrencyHelpers
@testable import TokenJarGateway

/// A gateway clock the test moves by hand.
final class ManualGatewayClock: GatewayClock {
    private let micros: NIOLockedValueBox<Int64>

    init(seconds: Int64 = 1_800_000_000) { micros = NIOLockedValueBox(seconds * 1_000_000) }

    func nowMicros() -> Int64 { micros.withLockedValue { $0 } }

    func advance(seconds: Int64) { micros.withLockedValue { $0 += seconds * 1_000_000 } }
}
