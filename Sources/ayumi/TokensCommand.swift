import ArgumentParser
import AyumiCore
import AyumiServices
import AyumiStore
import Foundation

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
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
                print(try await ayumi.tokens.create(role: role, subject: merchant ?? resident, feed: source, lifetimeSeconds: lifetime))
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
                let rows = try await ayumi.tokens.list(role: role).map { token -> [String] in
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
                let token = try await data.openExisting(readOnly: false).tokens.revoke(id: id)
                print("ok: token \(token.id) (\(token.role.rawValue)) revoked at \(List.utc(token.revokedAt!))")
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
