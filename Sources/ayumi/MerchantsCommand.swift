import ArgumentParser
import AyumiRules
import AyumiServices
import Foundation

struct MerchantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merchants",
        abstract: "The merchant registry: import and export.",
        discussion: """
            Merchants/merchants.yaml stays the demo city's source, installed at every start. Merchants imported \
            here (or added with PUT /v1/admin/merchants/{id}) are kept in the database: a start with the \
            registry file does not deactivate them, and a merchant that is also in the file is the file's \
            again at the next start. A running server takes an import within 10 s, without a restart.
            """,
        subcommands: [Import.self, Export.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or update merchants from a CSV or YAML file; nothing changes if any line has an error.",
            discussion: """
                FILE.yaml is read like Merchants/merchants.yaml. FILE.csv is RFC 4180, UTF-8 (a byte order mark is \
                fine), with the header id,name_ja,name_en,category,zone,settlement_account,points_per_day,\
                points_per_resident_per_day,active (the last three may be empty); one leading apostrophe before =, +, -, @, \
                a tab, a carriage return or another apostrophe is dropped from a text cell, as `merchants export` adds it. \
                Errors name FILE:LINE:COL. \
                Every zone must exist in the program in force. Prints how many merchants were saved.
                """)

        @OptionGroup var data: DataOptions

        @Argument(help: "A .csv or .yaml file.")
        var file: String

        func run() async throws {
            try await reportingFailures {
                guard let contents = FileManager.default.contents(atPath: file), let text = String(data: contents, encoding: .utf8) else {
                    throw CLIFailure("\(file):1:1: error: cannot read the file as UTF-8 text")
                }
                let ayumi = try await data.openExisting(readOnly: false)
                let ruleset = ayumi.dependencies.program.current.ruleset
                let merchants = file.lowercased().hasSuffix(".csv")
                    ? try MerchantsParser.parseCSV(text, file: file, ruleset: ruleset)
                    : try MerchantsParser.parse(text, file: file, ruleset: ruleset)
                try await ayumi.merchants.save(merchants)
                print("saved \(merchants.count) merchant\(merchants.count == 1 ? "" : "s")")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every registered merchant, as YAML (the registry file's form) or CSV (UTF-8 with BOM, CRLF).",
            discussion: """
                Suspensions are not part of the registry and are not exported; `GET /v1/admin/merchants` shows them. In the CSV a \
                text cell that begins like a spreadsheet formula (=, +, -, @, a tab or a carriage return) or with an apostrophe \
                gets a leading apostrophe; `merchants import` drops one leading apostrophe before any of those in every CSV it reads.
                """)

        @OptionGroup var data: DataOptions

        @Option(help: "yaml or csv.")
        var format: String = "yaml"

        func run() async throws {
            try await reportingFailures {
                guard ["yaml", "csv"].contains(format) else { throw CLIFailure("error: --format must be yaml or csv") }
                let merchants = try await data.openExisting(readOnly: true).merchants.list()
                print(format == "csv" ? MerchantsParser.csv(merchants) : MerchantsParser.yaml(merchants), terminator: "")
            }
        }
    }
}
