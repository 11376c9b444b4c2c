// Process helpers (External, ChildProcess, PostgresServer) live in the shared support target, so
// the store tests can use them too; every file of this target sees them.
@_exported import TokenJarTestSupport
