import AyumiCore
import AyumiRules
import AyumiServices
import AyumiSQLite
import AyumiStore
import Foundation
import Logging

/// Wires the use cases to their live dependencies: the SQLite store in a data directory and the
/// program from `Rules/` and `Merchants/`. The one place that knows which store is in use; the
/// server and the use cases only see the `Store` protocol.
public enum Bootstrap {
    public static let databaseFileName = "ayumi.sqlite"

    public static func databasePath(_ dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent(databaseFileName)
    }

    /// For the server: opens the database in `dataDirectory` (creating the directory, readable by
    /// the owner only, and the database), migrates it, installs the rules and merchants and loads
    /// the redemption signing key (creating it on first start).
    public static func open(dataDirectory: String, rulesDirectory: String, merchantsFile: String,
                            environment: AyumiEnvironment = .live, logger: Logger) async throws -> Ayumi {
        let ruleset = try checkedRules(rulesDirectory, logger: logger)
        let merchants = try MerchantsParser.load(path: merchantsFile, ruleset: ruleset)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let store = try SQLiteStore(path: databasePath(dataDirectory), mode: .createOrMigrate)
        let ayumi = try await Ayumi.make(store: store, program: ActiveProgram.Snapshot(ruleset: ruleset, merchants: merchants),
                                         createSigningKey: true, environment: environment, logger: logger)!
        try await ayumi.program.install(ruleset: ruleset, merchants: merchants)
        return ayumi
    }

    /// Loads `Rules/`, logging its warnings (rules that can never fire): the program is in force
    /// regardless, and the operator reads why part of it does nothing.
    static func checkedRules(_ directory: String, logger: Logger) throws(RulesCheckFailure) -> Ruleset {
        let (ruleset, warnings) = try RulesParser.check(directory: directory)
        for warning in warnings { logger.warning("Rules warning", metadata: ["diagnostic": "\(warning.description)"]) }
        return ruleset
    }

    /// Reads `Rules/` and `Merchants/` again and puts them in force in the running server; a program
    /// that fails its check changes nothing (the diagnostics are thrown).
    public static func reload(_ ayumi: Ayumi, rulesDirectory: String, merchantsFile: String, logger: Logger) async throws {
        let ruleset = try checkedRules(rulesDirectory, logger: logger)
        let merchants = try MerchantsParser.load(path: merchantsFile, ruleset: ruleset)
        try await ayumi.program.install(ruleset: ruleset, merchants: merchants)
    }

    /// For maintenance commands (`ledger verify`, `backup`, `report`, `tokens`): opens the database
    /// the server created, with the ruleset, merchants and signing key it installed. It never creates
    /// or migrates a database, never changes the active ruleset, and needs no `Rules/` directory;
    /// `readOnly` opens it so that nothing at all can be written.
    public static func openExisting(dataDirectory: String, readOnly: Bool, environment: AyumiEnvironment = .live,
                                    logger: Logger) async throws -> Ayumi {
        let path = databasePath(dataDirectory)
        let store = try existingStore(path, mode: .existing(readOnly: readOnly))
        // The ruleset in force now, by the timeline; the last one installed from files otherwise.
        let activations = try await store.activations()
        var stored = activations.inForce(at: environment.now())?.ruleset
        if stored == nil { stored = try await store.activeRuleset() }
        guard let stored else { throw AyumiError.notAnAyumiDatabase(path: path) }
        let program = ActiveProgram.Snapshot.load(activations, ruleset: try Ruleset(canonicalJSON: stored.content),
                                                  merchants: try await store.merchants(), logger: logger)
        guard let ayumi = try await Ayumi.make(store: store, program: program, createSigningKey: false, environment: environment,
                                               logger: logger) else {
            throw AyumiError.notAnAyumiDatabase(path: path)
        }
        return ayumi
    }

    /// Copies the whole database (ledger, residents, token hashes, the signing key) to a new file,
    /// whichever version of Ayumi wrote it, while the server runs. An existing file is never
    /// overwritten: a backup must not destroy an older one.
    public static func backup(dataDirectory: String, toPath path: String, logger: Logger) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw AyumiError.invalidRequest("\(path) exists; a backup never overwrites a file")
        }
        do {
            try await existingStore(databasePath(dataDirectory), mode: .existingAnyVersion).backup(toPath: path)
        } catch StoreError.backupTargetUnavailable(let path, let reason) {
            throw AyumiError.invalidRequest("cannot create \(path): \(reason)")
        }
        logger.info("Backup written")
    }

    /// The size of the database once its WAL is checkpointed into it: what the ledger takes on disk.
    public static func checkpointedDatabaseBytes(dataDirectory: String) async throws -> Int64 {
        let path = databasePath(dataDirectory)
        try await existingStore(path, mode: .existing(readOnly: false)).checkpoint()
        return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    static func existingStore(_ path: String, mode: SQLiteStore.OpenMode) throws -> SQLiteStore {
        do {
            return try SQLiteStore(path: path, mode: mode)
        } catch StoreError.databaseMissing {
            throw AyumiError.databaseMissing(path: path)
        } catch StoreError.databaseNeedsMigration {
            throw AyumiError.databaseNeedsMigration(path: path)
        } catch StoreError.notAnAyumiDatabase {
            throw AyumiError.notAnAyumiDatabase(path: path)
        }
    }
}
