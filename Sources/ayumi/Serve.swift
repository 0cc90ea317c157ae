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
import UnixSignals

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
            if try await !ayumi.administration.hasTokens() {
                let path = (data.resolvedDataDirectory as NSString).appendingPathComponent(Self.firstStartTokensFile)
                try await ayumi.administration.createFirstStartTokens { tokens in
                    let feeds = tokens.feeds.map {
                        "export \(SubmitterPermission.variableName(feed: $0.name))=\($0.token)   # ingest feed '\($0.name)'\n"
                    }
                    try Self.writePrivately(path: path, text: """
                        # Ayumi first-start tokens, shown nowhere else; only their hashes are stored.
                        # Load them with: . \(path)
                        export AYUMI_URL=http://\(Self.reachable(host)):\(port)
                        export AYUMI_ADMIN_TOKEN=\(tokens.admin)
                        export AYUMI_INGEST_TOKEN=\(tokens.ingest)   # ingest feed '\(Administration.firstStartFeed)'
                        \(feeds.joined())export AYUMI_MERCHANT_TOKEN=\(tokens.merchant)   # merchant \(tokens.merchantID)

                        """)
                }
                // Written straight to the file handle: stdout may be a pipe, and the server runs on after this.
                FileHandle.standardOutput.write(Data("""
                    First start: admin, ingest feed and merchant tokens were written to \(path) (readable by you only).
                    Load them into your shell with:  . \(path)

                    """.utf8))
            }
            let reload = ProgramReload(ayumi: ayumi, rulesDirectory: program.resolvedRulesDirectory,
                                       merchantsFile: program.resolvedMerchantsFile, logger: makeLogger())
            let app = buildApplication(ayumi: ayumi, host: host, port: port, services: [reload, IdleMemoryRelease(ayumi: ayumi), ScheduledRulesets(ayumi: ayumi, logger: makeLogger()),
                                                                                         LotExpiry(ayumi: ayumi, logger: makeLogger())],
                                       logger: makeLogger())
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

/// Puts an edited `Rules/` and `Merchants/` in force on SIGHUP, as daemons reload their
/// configuration; a broken program is refused with its diagnostics and the old one stays.
struct ProgramReload: Service {
    let ayumi: Ayumi
    let rulesDirectory: String
    let merchantsFile: String
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try await Bootstrap.reload(ayumi, rulesDirectory: rulesDirectory, merchantsFile: merchantsFile, logger: logger)
            } catch let failure as RulesCheckFailure {
                // Diagnostics name files, lines and keys of the program: nothing personal.
                logger.error("Program reload refused; the program in force stays", metadata: ["diagnostics": "\(failure.description)"])
            } catch {
                // A database error while installing (the disk full, a lock held too long) must not
                // end this service, which would stop the server: the program in force stays.
                logger.error("Program reload failed; the program in force stays", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Every 10 s, gives back the store's caches if nothing was written since the last look: a server
/// idle after a busy hour returns to its size at start.
struct IdleMemoryRelease: Service {
    let ayumi: Ayumi

    func run() async throws {
        // The sleep is cancelled at shutdown, which ends the loop at once.
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(10))
                _ = await ayumi.administration.releaseMemoryIfIdle()
            }
        }
    }
}

/// The daily expiry job: at start, then every hour (a day begins in the program's time zone, not
/// the server's), lots past their last day give their unspent points back to their sponsors.
struct LotExpiry: Service {
    let ayumi: Ayumi
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                do {
                    _ = try await ayumi.accounts.expireLots(asOf: ayumi.dependencies.today)
                } catch {
                    logger.error("Expiry job failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                try await Task.sleep(for: .seconds(3_600))
            }
        }
    }
}

/// Puts a ruleset activated for a future time fully in force when that time comes: events are
/// judged by it from its instant already, and this reloads the program-wide settings (the code
/// lifetime, the report group size) within 10 s of it; likewise a signing key rotated in by
/// `ayumi keys rotate` beside the server signs its codes within 10 s, and merchants imported by
/// `ayumi merchants import` redeem within 10 s.
struct ScheduledRulesets: Service {
    let ayumi: Ayumi
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(10))
                do {
                    try await ayumi.administration.reloadProgramIfScheduled()
                } catch {
                    logger.error("Scheduled ruleset not loaded", metadata: ["error": "\(String(reflecting: error))"])
                }
                // Merchants imported by `ayumi merchants import` take part from now on.
                do {
                    try await ayumi.administration.reloadMerchantsIfChanged()
                } catch {
                    logger.error("Merchants not reloaded", metadata: ["error": "\(String(reflecting: error))"])
                }
                // A key rotated in by `ayumi keys rotate` signs this server's codes from now on.
                do {
                    try await ayumi.redemptions.reloadSigningKeys()
                } catch {
                    logger.error("Signing keys not loaded", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }
}

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage bearer tokens: create, list, revoke.",
        discussion: """
            Tokens are stored only as SHA-256 hashes: a token is shown once, when it is created, and never again. \
            A revoked or expired token is refused (401) at once, without a restart. These commands open the \
            existing database in --data-dir and never create one.
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token and print only the token (its hash is stored).",
            discussion: """
                --role merchant needs --merchant (an active merchant), --role resident needs --resident (an enrolled \
                resident), --role ingest needs --source: the feed's name, such as transit-operator. Event ids are \
                unique per source, so every token of one feed should carry the same source (to rotate a feed's \
                token, create a new one with the same --source, then revoke the old one).
                """)

        @OptionGroup var data: DataOptions

        @Option(help: "admin, ingest, merchant or resident.")
        var role: Role

        @Option(help: "The merchant id, for --role merchant.")
        var merchant: String?

        @Option(help: "The resident id, for --role resident.")
        var resident: String?

        @Option(help: "The feed name, for --role ingest (such as transit-operator).")
        var source: String?

        @Option(name: .customLong("expires-in"), help: "Lifetime, such as 90d, 12h, 30m or 3600s (default: until revoked).")
        var expiresIn: String?

        func run() async throws {
            try await reportingFailures {
                let lifetime = try expiresIn.map(Self.seconds)
                guard merchant == nil || role == .merchant, resident == nil || role == .resident else {
                    throw CLIFailure("error: --merchant goes with --role merchant, --resident with --role resident")
                }
                let ayumi = try await data.openExisting(readOnly: false)
                print(try await ayumi.administration.createToken(role: role, subject: merchant ?? resident, feed: source, lifetimeSeconds: lifetime))
            }
        }

        /// `90d`, `12h`, `30m`, `3600s`.
        static func seconds(_ text: String) throws -> Int64 {
            let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
            guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), count > 0,
                  !count.multipliedReportingOverflow(by: unit).overflow else {
                throw CLIFailure("error: --expires-in: expected a number and a unit (s, m, h or d), such as 90d; got '\(text)'")
            }
            return count * unit
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (never the tokens themselves): id, role, who they speak for, dates, status.",
            discussion: """
                Times are UTC. Status is active, expired, revoked, or merchant-inactive (the token of a shop that \
                left the registry: refused like a revoked one). Opens the database read-only.
                """)

        @OptionGroup var data: DataOptions

        @Option(help: "Only tokens of this role.")
        var role: Role?

        func run() async throws {
            try await reportingFailures {
                let ayumi = try await data.openExisting(readOnly: true)
                let now = ayumi.dependencies.environment.now()
                let rows = try await ayumi.administration.tokens(role: role).map { token -> [String] in
                    let speaksFor = switch token.role {
                    case .ingest: "feed:\(token.feed ?? "")"
                    case .merchant: "merchant:\(token.subject ?? "")"
                    case .resident: "resident:\(token.subject ?? "")"
                    case .admin: "-"
                    }
                    let status = token.revokedAt != nil ? "revoked"
                        : !token.isValid(at: now) ? "expired"
                        : token.role == .merchant && ayumi.dependencies.program.current.merchants[token.subject ?? ""]?.active != true ? "merchant-inactive"
                        : "active"
                    return [String(token.id), token.role.rawValue, speaksFor, Self.utc(token.createdAt),
                            token.expiresAt.map(Self.utc) ?? "-", token.revokedAt.map(Self.utc) ?? "-", status]
                }
                print(Self.table([["ID", "ROLE", "FOR", "CREATED", "EXPIRES", "REVOKED", "STATUS"]] + rows), terminator: "")
            }
        }

        static func utc(_ date: Date) -> String {
            date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
        }

        /// Columns padded to their widest cell, two spaces apart.
        static func table(_ rows: [[String]]) -> String {
            let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
            return rows.map { row in
                row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            }.joined(separator: "\n") + "\n"
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by its id (see `tokens list`); it is refused at once, no restart needed.",
            discussion: "Revoking a revoked token again changes nothing and succeeds.")

        @OptionGroup var data: DataOptions

        @Argument(help: "The token's id, as `tokens list` shows it.")
        var id: Int64

        func run() async throws {
            try await reportingFailures {
                let token = try await data.openExisting(readOnly: false).administration.revokeToken(id: id)
                print("ok: token \(token.id) (\(token.role.rawValue)) revoked at \(List.utc(token.revokedAt!))")
            }
        }
    }
}

extension Role: ExpressibleByArgument {}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The keys that sign redemption codes.",
        discussion: """
            Codes are signed with Ed25519; each code names its key. Rotating adds a new key: codes are signed \
            with it from then on (a running server loads it within 10 s), and codes signed with an older key \
            stay valid until they expire (minutes). Keys are kept in the database, never printed.
            """,
        subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a new signing key and sign new codes with it; prints its number.")

        @OptionGroup var data: DataOptions

        func run() async throws {
            try await reportingFailures {
                let key = try await data.openExisting(readOnly: false).redemptions.rotateSigningKey()
                print("signing key \(key.id) in use from \(key.createdAt.formatted(.iso8601))")
            }
        }
    }
}
