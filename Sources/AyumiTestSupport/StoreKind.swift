import AyumiBootstrap
import AyumiServices
import Foundation
import Logging

/// The store the tests run the use cases against: the one place that names it, so a second store
/// (PostgreSQL) only adds a case here and the contract suite (`Tests/AyumiStoreTests`) runs on it
/// unchanged. Tests that can only run on one store live in that store's own target
/// (`Tests/AyumiSQLiteTests`).
public enum StoreKind: String, Sendable, CaseIterable {
    case sqlite

    /// The store under test: `AYUMI_TEST_STORE` (one of the cases' names), SQLite when unset. A
    /// misspelt name stops the run rather than quietly testing the default.
    public static var underTest: StoreKind {
        guard let name = ProcessInfo.processInfo.environment["AYUMI_TEST_STORE"], !name.isEmpty else { return .sqlite }
        guard let kind = StoreKind(rawValue: name) else {
            preconditionFailure("AYUMI_TEST_STORE=\(name): expected one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }

    /// Opens a fresh store of this kind for `dataDirectory` with the program in force, as a server's
    /// start does.
    public func open(dataDirectory: String, rulesDirectory: String, merchantsFile: String, environment: AyumiEnvironment = .live,
                     logger: Logger) async throws -> Ayumi {
        switch self {
        case .sqlite:
            try await Bootstrap.open(dataDirectory: dataDirectory, rulesDirectory: rulesDirectory, merchantsFile: merchantsFile,
                                     environment: environment, logger: logger)
        }
    }

    /// Opens the store a server of this kind uses, as a second process would (a command such as
    /// `ayumi keys rotate` beside the server): never creating or migrating it.
    public func openExisting(dataDirectory: String, environment: AyumiEnvironment, logger: Logger) async throws -> Ayumi {
        switch self {
        case .sqlite: try await Bootstrap.openExisting(dataDirectory: dataDirectory, readOnly: false, environment: environment, logger: logger)
        }
    }

    /// Whether the whole database is one file in the data directory, which `ayumi backup` copies (a
    /// database server is backed up with its own tools).
    public var keepsOneFile: Bool {
        switch self {
        case .sqlite: true
        }
    }
}
