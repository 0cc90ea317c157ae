import GRDB
import GRDBSQLite

/// One value bound to a parameter of a prepared statement, without GRDB's `StatementArguments`
/// (an array of existentials, boxed for every value): the statements of the ingest hot path run
/// once or more per event.
enum RawValue {
    case integer(Int64)
    case text(String)
    case null
}

extension Statement {
    /// Binds `values` to the parameters in order, steps once and resets. For statements that return
    /// no rows; an error is thrown as GRDB throws it.
    func run(_ values: RawValue...) throws { try run(values) }

    func run(_ values: [RawValue]) throws {
        try bind(values)
        defer { clear() }
        let code = sqlite3_step(sqliteStatement)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// Binds `values`, steps once and returns the first row's first `columns` integer columns (nil
    /// when there is no row), then resets. For the point lookups of the ingest hot path.
    func firstIntegers(_ columns: Int, _ values: RawValue...) throws -> [Int64]? {
        try firstRow(values) { row in (0..<Int32(columns)).map(row.integer) }
    }

    /// Binds `values`, steps once and reads the first row with `read` (nil when there is no row),
    /// then resets. `read` gets a cursor on the row; it must not keep it.
    func firstRow<Value>(_ values: RawValue..., read: (RawRow) -> Value) throws -> Value? { try firstRow(values, read: read) }

    func firstRow<Value>(_ values: [RawValue], read: (RawRow) -> Value) throws -> Value? {
        try bind(values)
        defer { clear() }
        switch sqlite3_step(sqliteStatement) {
        case SQLITE_ROW: return read(RawRow(statement: sqliteStatement))
        case SQLITE_DONE: return nil
        case let code: throw error(code)
        }
    }

    /// Binds `values` and calls `read` for every row, then resets. For long scans (a backtest reads
    /// every event of a month) without a `Row` per row.
    func forEachRow(_ values: [RawValue], read: (RawRow) throws -> Void) throws {
        try bind(values)
        defer { clear() }
        while true {
            switch sqlite3_step(sqliteStatement) {
            case SQLITE_ROW: try read(RawRow(statement: sqliteStatement))
            case SQLITE_DONE: return
            case let code: throw error(code)
            }
        }
    }

    private func bind(_ values: [RawValue]) throws {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32 = switch value {
            case .integer(let number): sqlite3_bind_int64(handle, index, number)
            case .text(let text): text.withCString { sqlite3_bind_text(handle, index, $0, -1, transient) }
            case .null: sqlite3_bind_null(handle, index)
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
    }

    private func clear() {
        sqlite3_reset(sqliteStatement)
        sqlite3_clear_bindings(sqliteStatement)
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))))
    }
}

/// The current row of a stepped statement, read by column index.
struct RawRow {
    let statement: SQLiteStatement

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    func optionalInteger(_ column: Int32) -> Int64? {
        sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, column)
    }

    func optionalText(_ column: Int32) -> String? {
        sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : text(column)
    }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        return String(cString: bytes)
    }
}

/// SQLite copies the text before `sqlite3_bind_text` returns (SQLITE_TRANSIENT).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
