import AyumiCore
import AyumiLedger
import AyumiRules
import AyumiStore

/// What a resident sees of their own points: the balance and the history.
public struct Accounts: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    public static let historyPageSizeMax = 100

    /// What the resident can spend today, and what is past its last day but not yet expired: the
    /// same lots a redemption draws from, so the balance and `insufficient-points` never disagree.
    public func balance(residentID: String) async throws -> Balance {
        Lots.balance(try await dependencies.store.openLots(residentID: residentID), on: dependencies.today)
    }

    /// Lots expired per transaction of the expiry job: small enough that other writes wait little.
    static let expiryBatch = 2_000

    /// Returns the unspent points of every lot whose last day is before `asOf` to the sponsors that
    /// funded them, batch by batch until none is left; idempotent (a second run, or one in another
    /// process at the same time, expires nothing twice).
    public func expireLots(asOf: LocalDate) async throws -> ExpiryRun {
        var total = ExpiryRun(lots: 0, points: 0)
        while true {
            let run = try await dependencies.store.expireLots(before: asOf, at: dependencies.environment.now(), limit: Self.expiryBatch)
            total.lots += run.lots
            total.points += run.points
            if run.lots < Self.expiryBatch { break }
        }
        if total.lots > 0 {
            dependencies.logger.info("Lots expired", metadata: ["lots": "\(total.lots)", "points": "\(total.points)", "asOf": "\(asOf)"])
        }
        return total
    }

    /// A page of history, newest first, with the reason of every line, and the cursor of the next
    /// page (nil on the last page).
    public func history(residentID: String, cursor: String?, limit: Int) async throws -> ([HistoryLine], next: String?) {
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
        var lines: [HistoryLine] = []
        for entry in page { lines.append(HistoryLine(entry: entry, reason: try await reason(entry))) }
        return (lines, entries.count > limit ? page.last.map { String($0.id) } : nil)
    }

    /// Reasons are not stored: an award's is rendered from its rule's template in the ruleset
    /// version that made it, a redemption's from the merchant's name.
    func reason(_ entry: HistoryEntry) async throws -> LocalizedText {
        if let recorded = entry.recordedReason { return recorded }
        switch entry.kind {
        case .redemption:
            let name = entry.merchantID.flatMap { dependencies.program.current.merchants[$0]?.name }
                ?? LocalizedText(ja: entry.merchantID ?? "", en: entry.merchantID ?? "")
            return LocalizedText(ja: "\(name.ja)で利用", en: "Redeemed at \(name.en)")
        case .expiry:
            let lastDay = entry.localDate.adding(days: -1)
            return LocalizedText(ja: "有効期限切れ（\(lastDay)まで有効）", en: "Expired (valid until \(lastDay))")
        case .refund:
            let name = entry.merchantID.flatMap { dependencies.program.current.merchants[$0]?.name }
                ?? LocalizedText(ja: entry.merchantID ?? "", en: entry.merchantID ?? "")
            guard entry.toSponsors > 0 else { return LocalizedText(ja: "\(name.ja)から返金", en: "Refunded by \(name.en)") }
            return LocalizedText(ja: "\(name.ja)から返金（うち\(entry.toSponsors)ポイントは有効期限を過ぎていたため負担者へ）",
                                 en: "Refunded by \(name.en) (\(entry.toSponsors) points were past their last day and went back to their sponsors)")
        case .award:
            if let version = entry.rulesetVersion, let rule = entry.ruleID, let event = entry.event,
               let reason = try await dependencies.explainers.explainer(version)?
                .reason(ruleID: rule, detail: event, date: entry.localDate, points: entry.points, cappedBy: entry.cappedBy) {
                return reason
            }
            if let version = entry.rulesetVersion, let rule = entry.ruleID,
               let prize = try await dependencies.explainers.explainer(version)?.prizeReason(ruleID: rule) {
                return prize
            }
            return LocalizedText(ja: "\(entry.points)ポイント付与", en: "\(entry.points) points awarded")
        }
    }
}

/// A line of history with its reason, read like the entry it wraps.
@dynamicMemberLookup
public struct HistoryLine: Sendable, Hashable {
    public var entry: HistoryEntry
    public var reason: LocalizedText

    public subscript<Value>(dynamicMember keyPath: KeyPath<HistoryEntry, Value>) -> Value { entry[keyPath: keyPath] }
}
