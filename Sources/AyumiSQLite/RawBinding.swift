import GRDB
import GRDBSQLite

/// One value bound to a parameter of a prepared statement, without GRDB's `StatementArguments`
/// (an array of existentials, boxed for every value): the inserts of the ingest hot path run once
/// per event and per award.
enum RawValue {
    case integer(Int64)
    case text(String)
    case null
}

extension Statement {
    /// Binds `values` to the parameters in order, steps once and resets. For statements that return
    /// no rows; an error is thrown as GRDB throws it.
    func run(_ values: RawValue...) throws {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32 = switch value {
            case .integer(let number): sqlite3_bind_int64(handle, index, number)
            case .text(let text): text.withCString { sqlite3_bind_text(handle, index, $0, -1, transient) }
            case .null: sqlite3_bind_null(handle, index)
            }
            guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message) }
        }
        let code = sqlite3_step(handle)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        guard code == SQLITE_DONE else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message) }
    }

    private var message: String { String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))) }
}

/// SQLite copies the text before `sqlite3_bind_text` returns (SQLITE_TRANSIENT).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
