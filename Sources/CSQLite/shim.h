#include <sqlite3.h>

/// `sqlite3_config` is variadic, which Swift cannot call: this sets SQLITE_CONFIG_MEMSTATUS.
/// Effective only before SQLite is initialized (the first connection opened in the process);
/// returns SQLITE_MISUSE after that.
static inline int tokenjar_sqlite3_config_memstatus(int enabled) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, enabled);
}
