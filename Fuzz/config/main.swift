// libFuzzer target: the configuration loader (YAML text to a validated GatewayConfig). Built
// only with `swift build --sanitize=fuzzer` (see scripts/fuzz); in a plain build it does nothing.
//
// Invariants: no crash on any input; a refused configuration names at least one problem, each
// with a message.
import TokenJarConfig

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try ConfigLoader.load(yaml: yaml, environment: [:])
    } catch {
        if error.problems.isEmpty { fatalError("configuration refused without a problem") }
        for problem in error.problems where problem.message.isEmpty { fatalError("problem without a message") }
        _ = error.description
    }
    return 0
}
