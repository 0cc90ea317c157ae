import AyumiCore
import AyumiRules
import AyumiStore
import Foundation

/// The merchant registry beyond `Merchants/merchants.yaml`: merchants added or changed by the
/// city's staff (admin API, `ayumi merchants import`), suspensions, and limits. Every change takes
/// effect without a restart: at once in this process, within 10 s in a server beside a command.
public struct MerchantAdministration: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    var store: any Store { dependencies.store }

    /// Every merchant ever registered, by id.
    public func list() -> [Merchant] {
        dependencies.program.current.merchants.values.sorted { $0.id < $1.id }
    }

    /// Adds or updates merchants, checked against the program in force (each zone must exist). A
    /// merchant also in the registry file is the file's again at the next start.
    public func save(_ merchants: [Merchant]) async throws {
        let ruleset = dependencies.program.current.ruleset
        for merchant in merchants {
            guard Identifier.isValid(merchant.id) else { throw AyumiError.invalidRequest("id: 1-64 letters, digits or -_.:") }
            guard !merchant.name.ja.isEmpty, !merchant.name.en.isEmpty else {
                throw AyumiError.invalidRequest("\(merchant.id): a name in Japanese and in English")
            }
            guard ruleset.zone(merchant.zoneID) != nil else {
                throw AyumiError.invalidRequest("\(merchant.id): unknown zone '\(merchant.zoneID)' (zones: \(ruleset.zones.map(\.id).joined(separator: ", ")))")
            }
            guard !merchant.category.isEmpty, !merchant.settlementAccount.isEmpty else {
                throw AyumiError.invalidRequest("\(merchant.id): a category and a settlement account")
            }
            for limit in [merchant.pointsPerDayMax, merchant.pointsPerResidentPerDayMax].compactMap({ $0 }) where !Bounds.limitPoints.contains(limit) {
                throw AyumiError.invalidRequest("\(merchant.id): a limit from 1 to \(Bounds.limitPoints.upperBound)")
            }
        }
        try await store.saveMerchants(merchants)
        try await reloadIfChanged()
        dependencies.logger.info("Merchants saved", metadata: ["merchants": "\(merchants.count)"])
    }

    /// Suspends or reinstates a merchant: it redeems and refunds nothing while suspended; its
    /// token still reads what it did.
    public func setSuspended(merchantID: String, _ suspended: Bool) async throws -> Merchant {
        guard try await store.setSuspended(merchantID: merchantID, suspended) else { throw AyumiError.unknownMerchant(merchantID) }
        try await reloadIfChanged()
        dependencies.logger.notice(suspended ? "Merchant suspended" : "Merchant reinstated", metadata: ["merchant.id": "\(merchantID)"])
        return dependencies.program.current.merchants[merchantID]!
    }

    /// Reloads the registry when the store's differs from the one loaded (changed here, or by a
    /// command beside the server). Returns whether it did.
    @discardableResult
    public func reloadIfChanged() async throws -> Bool {
        let merchants = try await store.merchants()
        guard Dictionary(uniqueKeysWithValues: merchants.map { ($0.id, $0) }) != dependencies.program.current.merchants else { return false }
        dependencies.program.replace(with: dependencies.program.current.replacing(merchants: merchants))
        dependencies.logger.info("Merchants reloaded", metadata: ["merchants": "\(merchants.count)"])
        return true
    }
}
