import ArgumentParser
import AyumiBootstrap
import AyumiCore
import AyumiRules
import AyumiServices
import Foundation
import Logging

@main
struct AyumiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ayumi",
        abstract: "Ayumi (歩み): a city's wellbeing point service.",
        discussion: """
            Residents earn points for walking, riding public transport and visiting downtown, and spend them \
            at local shops with a QR code. `ayumi serve` creates the database in --data-dir (default: var, or \
            $AYUMI_DATA_DIR) and installs the program from --rules (default: Rules) and the shops from --merchants \
            at every start. The maintenance commands (tokens, keys, merchants, residents, lots, settle, ledger, report, backup, draw, rules explain and backtest) open that database and never \
            create one; they read the program the server installed and need no Rules/ directory.
            """,
        subcommands: [Serve.self, TokensCommand.self, KeysCommand.self, MerchantsCommand.self, ResidentsCommand.self, LotsCommand.self, Settle.self, RulesCommand.self, DrawCommand.self, LedgerCommand.self, Report.self, Backup.self, Bench.self])
}

/// Where the database lives: every command that opens it takes this option.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory holding ayumi.sqlite (env AYUMI_DATA_DIR; default var).")
    var dataDirectory: String?

    var resolvedDataDirectory: String { dataDirectory ?? env("AYUMI_DATA_DIR") ?? "var" }

    /// Opens the database a server created, with the ruleset and merchants it installed; never
    /// creates one (a mistyped --data-dir fails and names the path it looked for). Commands that
    /// only read open it read-only.
    func openExisting(readOnly: Bool) async throws -> Ayumi {
        try await Bootstrap.openExisting(dataDirectory: resolvedDataDirectory, readOnly: readOnly, logger: makeLogger())
    }
}

/// The program files the server installs at every start.
struct ProgramOptions: ParsableArguments {
    @Option(name: .customLong("rules"), help: "Rules directory (env AYUMI_RULES_DIR; default Rules).")
    var rulesDirectory: String?

    @Option(name: .customLong("merchants"), help: "Merchant registry file (env AYUMI_MERCHANTS_FILE; default Merchants/merchants.yaml).")
    var merchantsFile: String?

    var resolvedRulesDirectory: String { rulesDirectory ?? env("AYUMI_RULES_DIR") ?? "Rules" }
    var resolvedMerchantsFile: String { merchantsFile ?? env("AYUMI_MERCHANTS_FILE") ?? "Merchants/merchants.yaml" }
}

func env(_ name: String) -> String? {
    ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
}

func makeLogger() -> Logger {
    var logger = Logger(label: "ayumi")
    logger.logLevel = env("AYUMI_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}

/// A failure the user can act on: printed as is to standard error, exit status 1.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension AyumiError {
    var cli: CLIFailure { CLIFailure("error: \(detail)") }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Runs a command body and turns known failures into a message and exit status 1.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CLIFailure {
        printError(failure.description)
        throw ExitCode.failure
    } catch let error as AyumiError {
        printError(error.cli.description)
        throw ExitCode.failure
    } catch let failure as RulesCheckFailure {
        printError(failure.description)
        throw ExitCode.failure
    }
}
