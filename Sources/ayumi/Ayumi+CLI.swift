import ArgumentParser
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
            at local shops with a QR code. Every command works on the database in --data-dir (default: var, \
            or $AYUMI_DATA_DIR) with the program in --rules (default: Rules) and the shops in --merchants.
            """,
        subcommands: [Serve.self, Tokens.self, RulesCommand.self, LedgerCommand.self, Report.self, Backup.self, Bench.self])
}

/// Options every command that opens the database shares. Each falls back to an `AYUMI_*` variable.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory holding ayumi.sqlite (env AYUMI_DATA_DIR; default var).")
    var dataDirectory: String?

    @Option(name: .customLong("rules"), help: "Rules directory (env AYUMI_RULES_DIR; default Rules).")
    var rulesDirectory: String?

    @Option(name: .customLong("merchants"), help: "Merchant registry file (env AYUMI_MERCHANTS_FILE; default Merchants/merchants.yaml).")
    var merchantsFile: String?

    var resolvedDataDirectory: String { dataDirectory ?? env("AYUMI_DATA_DIR") ?? "var" }
    var resolvedRulesDirectory: String { rulesDirectory ?? env("AYUMI_RULES_DIR") ?? "Rules" }
    var resolvedMerchantsFile: String { merchantsFile ?? env("AYUMI_MERCHANTS_FILE") ?? "Merchants/merchants.yaml" }

    func open(environment: AyumiEnvironment = .live) async throws -> Ayumi {
        do {
            return try await Ayumi.open(dataDirectory: resolvedDataDirectory, rulesDirectory: resolvedRulesDirectory,
                                        merchantsFile: resolvedMerchantsFile, environment: environment, logger: makeLogger())
        } catch let failure as RulesCheckFailure {
            throw CLIFailure(failure.description)
        }
    }
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
    }
}
