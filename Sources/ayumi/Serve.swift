import ArgumentParser
import AyumiBootstrap
import AyumiCore
import AyumiRules
import AyumiServer
import AyumiServices
import AyumiStore
import Foundation
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API.",
        discussion: """
            Creates the database in --data-dir if there is none, applies pending migrations, and installs the \
            program from --rules and the shops from --merchants (a shop missing from the file, or marked \
            active: false, redeems nothing from this start on). On the first start with an empty database it \
            mints an admin token, an ingest token (feed 'default'), one ingest token for each feed that \
            submitters in program.yaml names (AYUMI_FEED_<NAME>_TOKEN, such as \
            AYUMI_FEED_TRANSIT_OPERATOR_TOKEN) and a merchant token (the first active merchant), and writes \
            them as shell lines to <data-dir>/first-start-tokens.sh, readable by the owner only; only their \
            hashes are stored. Later tokens come from `ayumi tokens create`.

            SIGHUP reads --rules and --merchants again and puts them in force without a restart (a shop \
            marked active: false stops redeeming at once): rules that changed from the effectiveFrom of \
            program.yaml, or from then when it has none; a program that fails its check is logged and \
            changes nothing.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var program: ProgramOptions

    @Option(help: "Address to listen on (env AYUMI_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env AYUMI_PORT; default 8080).")
    var port: Int?

    static let firstStartTokensFile = "first-start-tokens.sh"

    func run() async throws {
        try await reportingFailures {
            LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
            // The database, its WAL and every file the server writes hold the signing key and token
            // hashes: readable by the owner only.
            umask(0o077)
            let ayumi = try await Bootstrap.open(dataDirectory: data.resolvedDataDirectory, rulesDirectory: program.resolvedRulesDirectory,
                                             merchantsFile: program.resolvedMerchantsFile, logger: makeLogger())
            let host = self.host ?? env("AYUMI_HOST") ?? "127.0.0.1"
            let port = self.port ?? env("AYUMI_PORT").flatMap(Int.init) ?? 8080
            if try await !ayumi.tokens.exist() {
                let path = (data.resolvedDataDirectory as NSString).appendingPathComponent(Self.firstStartTokensFile)
                try await ayumi.tokens.createFirstStart { tokens in
                    let feeds = tokens.feeds.map {
                        "export \(SubmitterPermission.variableName(feed: $0.name))=\($0.token)   # ingest feed '\($0.name)'\n"
                    }
                    try Self.writePrivately(path: path, text: """
                        # Ayumi first-start tokens, shown nowhere else; only their hashes are stored.
                        # Load them with: . \(path)
                        export AYUMI_URL=http://\(Self.reachable(host)):\(port)
                        export AYUMI_ADMIN_TOKEN=\(tokens.admin)
                        export AYUMI_INGEST_TOKEN=\(tokens.ingest)   # ingest feed '\(Tokens.firstStartFeed)'
                        \(feeds.joined())export AYUMI_MERCHANT_TOKEN=\(tokens.merchant)   # merchant \(tokens.merchantID)

                        """)
                }
                // Written straight to the file handle: stdout may be a pipe, and the server runs on after this.
                FileHandle.standardOutput.write(Data("""
                    First start: admin, ingest feed and merchant tokens were written to \(path) (readable by you only).
                    Load them into your shell with:  . \(path)

                    """.utf8))
            }
            let (rules, merchants, logger) = (program.resolvedRulesDirectory, program.resolvedMerchantsFile, makeLogger())
            let jobs = BackgroundJobs(reloadProgram: {
                do {
                    try await Bootstrap.reload(ayumi, rulesDirectory: rules, merchantsFile: merchants, logger: logger)
                } catch let failure as RulesCheckFailure {
                    throw BackgroundJobs.ProgramRefused(diagnostics: failure.description)
                }
            })
            let app = buildApplication(ayumi: ayumi, host: host, port: port, jobs: jobs, logger: makeLogger())
            try await app.runService()
        }
    }

    /// The address a client on this machine uses: loopback for a wildcard, brackets for IPv6.
    static func reachable(_ host: String) -> String {
        switch host {
        case "0.0.0.0": "127.0.0.1"
        case "::": "[::1]"
        case _ where host.contains(":"): "[\(host)]"
        default: host
        }
    }

    /// Writes a new file that only the owner can read: created with mode 0600 from the start (never
    /// readable by others for a moment), replacing a stale file left by an earlier database.
    static func writePrivately(path: String, text: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CLIFailure("error: cannot create \(path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
    }
}
