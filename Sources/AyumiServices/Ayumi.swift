import AyumiCore
import AyumiRedemption
import AyumiReports
import AyumiStore
import Foundation
import Logging

/// The use cases of Ayumi, split by feature over one set of dependencies built at start. The HTTP
/// server and the CLI both call them; each edge hands each of its routes or commands only the
/// feature it serves.
public struct Ayumi: Sendable {
    public let dependencies: Dependencies
    public let residents: Residents
    public let tokens: Tokens
    public let program: ProgramAdministration
    public let merchants: MerchantAdministration
    public let cards: Cards
    public let draws: Draws
    public let health: Health
    public let ingestion: Ingestion
    public let accounts: Accounts
    public let redemptions: Redemptions
    public let reporting: Reporting

    public init(_ dependencies: Dependencies) {
        self.dependencies = dependencies
        residents = Residents(dependencies)
        tokens = Tokens(dependencies)
        program = ProgramAdministration(dependencies)
        merchants = MerchantAdministration(dependencies)
        cards = Cards(dependencies)
        draws = Draws(dependencies)
        health = Health(dependencies)
        ingestion = Ingestion(dependencies)
        accounts = Accounts(dependencies)
        redemptions = Redemptions(dependencies)
        reporting = Reporting(dependencies)
    }

    /// Builds the use cases over `store` with `program` in force and the redemption signing key
    /// stored in it (created when `createSigningKey` and there is none yet).
    public static func make(store: some Store & ReportSource, program: ActiveProgram.Snapshot, createSigningKey: Bool,
                            environment: AyumiEnvironment, logger: Logger) async throws -> Ayumi? {
        let keys = try await store.signingKeys(createIfNone: createSigningKey ? CodeSigner.newRawKey() : nil, at: environment.now())
        guard !keys.isEmpty else { return nil }
        return Ayumi(Dependencies(store: store, program: ActiveProgram(program), environment: environment,
                                  signer: Signer(try CodeSigner(stored: keys)), logger: logger))
    }
}

extension CodeSigner {
    init(stored keys: [StoredSigningKey]) throws {
        try self.init(keys: keys.map { SigningKey(id: $0.id, raw: $0.raw, createdAt: $0.createdAt) })
    }
}
