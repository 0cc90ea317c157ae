import ArgumentParser
import AyumiCore
import AyumiServer
import AyumiServices
import Foundation
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API.",
        discussion: """
            On the first start with an empty database it mints an admin, an ingest and a merchant token (for \
            the first merchant) and prints them once as shell lines; only their hashes are stored. Later \
            tokens come from `ayumi tokens create`.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (env AYUMI_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env AYUMI_PORT; default 8080).")
    var port: Int?

    func run() async throws {
        try await reportingFailures {
            LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
            let ayumi = try await common.open()
            let host = self.host ?? env("AYUMI_HOST") ?? "127.0.0.1"
            let port = self.port ?? env("AYUMI_PORT").flatMap(Int.init) ?? 8080
            if try await !ayumi.hasTokens() {
                try await printFirstTokens(ayumi, host: host, port: port)
            }
            let app = buildApplication(ayumi: ayumi, host: host, port: port, logger: makeLogger())
            try await app.runService()
        }
    }

    func printFirstTokens(_ ayumi: Ayumi, host: String, port: Int) async throws {
        let admin = try await ayumi.createToken(role: .admin, subject: nil)
        let ingest = try await ayumi.createToken(role: .ingest, subject: nil)
        guard let merchant = ayumi.merchants.keys.sorted().first else { throw CLIFailure("error: no merchant is registered") }
        let merchantToken = try await ayumi.createToken(role: .merchant, subject: merchant)
        // Written straight to the file handle: stdout may be a pipe, and the server runs on after this.
        FileHandle.standardOutput.write(Data("""
            # First start: these tokens are shown once and stored only as hashes. Paste them into your shell:
            export AYUMI_URL=http://\(host):\(port)
            export AYUMI_ADMIN_TOKEN=\(admin)
            export AYUMI_INGEST_TOKEN=\(ingest)
            export AYUMI_MERCHANT_TOKEN=\(merchantToken)   # merchant \(merchant)

            """.utf8))
    }
}

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage bearer tokens.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token and print only the token (its hash is stored).")

        @OptionGroup var common: CommonOptions

        @Option(help: "admin, ingest, merchant or resident.")
        var role: Role

        @Option(help: "The merchant id, for --role merchant.")
        var merchant: String?

        @Option(help: "The resident id, for --role resident.")
        var resident: String?

        func run() async throws {
            try await reportingFailures {
                let ayumi = try await common.open()
                print(try await ayumi.createToken(role: role, subject: merchant ?? resident))
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
