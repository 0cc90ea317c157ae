import AyumiCore
import AyumiStore

/// What a resident sees of their own points: the balance and the history.
public struct Accounts: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    public static let historyPageSizeMax = 100

    /// What the resident can spend today, and what is past its last day but not yet expired: the
    /// same lots a redemption draws from, so the balance and `insufficient-points` never disagree.
    public func balance(residentID: String) async throws -> Balance {
        try await dependencies.store.balance(residentID: residentID, on: dependencies.today)
    }

    /// A page of history, newest first, and the cursor of the next page (nil on the last page).
    public func history(residentID: String, cursor: String?, limit: Int) async throws -> ([HistoryEntry], next: String?) {
        var beforeID: Int64?
        if let cursor {
            guard let id = Int64(cursor), id > 0 else { throw AyumiError.invalidRequest("cursor: not a cursor this service gave out") }
            beforeID = id
        }
        guard (1...Self.historyPageSizeMax).contains(limit) else {
            throw AyumiError.invalidRequest("limit: between 1 and \(Self.historyPageSizeMax)")
        }
        let entries = try await dependencies.store.history(residentID: residentID, beforeID: beforeID, limit: limit + 1)
        let page = Array(entries.prefix(limit))
        return (page, entries.count > limit ? page.last.map { String($0.id) } : nil)
    }
}
