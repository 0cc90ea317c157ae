import ArgumentParser
import AyumiBootstrap
import AyumiCore
import AyumiLedger
import AyumiRedemption
import AyumiReports
import AyumiRules
import AyumiServices
import Foundation

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "Work with the rules files.",
                                                    subcommands: [Check.self, Explain.self, Backtest.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a rules directory and the merchant registry.",
            discussion: """
                Prints each problem as FILE:LINE:COLUMN: error: MESSAGE (an unknown key with the known key it \
                most resembles), and FILE:LINE:COLUMN: warning: MESSAGE for parts of a program that loads but can \
                never do what they were written for (a rule no event can fire). Exits 0 when the program loads \
                (warnings or not), 1 when a file has problems, 2 when the directory or a file cannot be read at \
                all (missing, not permitted, not UTF-8 text).
                """)

        @Argument(help: "The rules directory (default: Rules, or $AYUMI_RULES_DIR).")
        var directory: String?

        @Option(name: .customLong("merchants"), help: "Merchant registry to check against the rules (default Merchants/merchants.yaml).")
        var merchantsFile: String?

        func run() async throws {
            let directory = self.directory ?? env("AYUMI_RULES_DIR") ?? "Rules"
            let merchantsFile = self.merchantsFile ?? env("AYUMI_MERCHANTS_FILE") ?? "Merchants/merchants.yaml"
            do {
                let (ruleset, warnings) = try RulesParser.check(directory: directory)
                let merchants = try MerchantsParser.load(path: merchantsFile, ruleset: ruleset)
                for warning in warnings { printError(warning.description) }
                print("ok: \(directory) version \(ruleset.version): \(ruleset.rules.count) rules, \(ruleset.sponsors.count) sponsors, "
                      + "\(ruleset.zones.count) zones; \(merchants.count) merchants")
            } catch {
                for diagnostic in error.diagnostics { printError(diagnostic.description) }
                throw error.unreadable ? ExitCode(2) : ExitCode.failure
            }
        }
    }
}

extension RulesCommand {
    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain what the rules in force make of one event, without recording it.",
            discussion: """
                FILE holds one event as POST /v1/events takes it, e.g. {"id": "t-1", "kind": "transit_tap", \
                "resident": "r-1", "at": "2026-11-25T08:10:00+09:00", "mode": "bus", "route": "r10", "stop": "s1"}. \
                The event is judged by the ruleset in force at its time (with who may send it, how late, and \
                the sponsors' budgets of the ruleset in force now), against the resident and the counters \
                as stored now in --data-dir, and the clock now: for every rule of its kind, whether it fires and \
                why not (the condition that failed, the limit reached, the group that picked another rule), the \
                limit that reduced an award, and the split between sponsors with what each has funded so far. \
                Nothing is written; the database is opened read-only.
                """)

        @OptionGroup var data: DataOptions

        @Option(name: .customLong("event"), help: "A JSON file with one event.")
        var eventFile: String

        @Option(name: .customLong("from"), help: "Who reports it: resident, or ingest:FEED (default: the first submitter program.yaml allows for its kind).")
        var submitter: String?

        @Option(help: "ja or en.")
        var language: Language = .en

        func run() async throws {
            try await reportingFailures {
                guard let bytes = FileManager.default.contents(atPath: eventFile) else { throw CLIFailure("error: cannot read \(eventFile)") }
                let input: EventInput
                do {
                    input = try JSONDecoder().decode(EventInput.self, from: bytes)
                } catch {
                    throw CLIFailure("error: \(eventFile): not one event as POST /v1/events takes it (\(error))")
                }
                let event: Event
                do {
                    event = try input.event(index: 0)
                } catch let error as AyumiError {
                    throw CLIFailure("error: \(eventFile): \(error.detail.replacingOccurrences(of: "events[0].", with: ""))")
                }
                let ayumi = try await data.openExisting(readOnly: true)
                let from: Submitter
                switch submitter {
                case nil: from = ayumi.dependencies.program.current.evaluator.firstSubmitter(of: event.kind, residentID: event.residentID)
                case "resident"?: from = .resident(event.residentID)
                case let text? where text.hasPrefix("ingest:") && Identifier.isValid(String(text.dropFirst("ingest:".count))):
                    from = .feed(String(text.dropFirst("ingest:".count)))
                case let text?: throw CLIFailure("error: --from: resident or ingest:FEED, got '\(text)'")
                }
                print(try await ayumi.program.explain(event, from: from).text(language), terminator: "")
            }
        }
    }
}

extension RulesCommand {
    enum BacktestFormat: String, ExpressibleByArgument { case table, csv, json }

    struct Backtest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay the stored events of a period through a candidate ruleset, beside what the ledger paid.",
            discussion: """
                Reads the rules directory --rules (its errors printed as `rules check` prints them, exit 1), then replays every stored \
                event of the local days --from to --to (both included) of the database in --data-dir through it, \
                without writing anything, and prints side by side with what was actually awarded: points and yen in \
                total and per sponsor, awards and how many were capped, residents reached (in total, by age band in \
                the period's last year and by district), points per resident (p50, p90, max), points per day and each \
                sponsor's points per day (its budget burn), with \
                the change. A figure drawn from fewer residents than the program's reportGroupSizeMin reads X, and so \
                does the smallest other figure of its section where one hidden figure could be worked out from the \
                total; a side that reaches fewer residents shows nothing. Each event is judged as when it arrived \
                (its receipt time is the clock), in the order it was recorded; the candidate's counters (limits, the \
                funding carried between awards) start empty at --from, so figures match the ledger's exactly only \
                from the program's first day. CSV is RFC 4180 (CRLF). The same database and rules always print the \
                same figures.
                """)

        @OptionGroup var data: DataOptions

        @Option(name: .customLong("rules"), help: "The candidate rules directory.")
        var rulesDirectory: String

        @OptionGroup var period: PeriodOptions

        @Option(help: "table, csv or json.")
        var format: BacktestFormat = .table

        @Option(help: "Labels in ja or en (table and csv).")
        var language: Language = .en

        func run() async throws {
            let candidate: Ruleset
            do {
                candidate = try RulesParser.load(directory: rulesDirectory)
            } catch {
                for diagnostic in error.diagnostics { printError(diagnostic.description) }
                throw error.unreadable ? ExitCode(2) : ExitCode.failure
            }
            try await reportingFailures {
                let (from, to) = try period.days()
                let report = try await data.openExisting(readOnly: true).reporting.backtest(candidate, from: from, to: to)
                switch format {
                case .table: print(report.table(language), terminator: "")
                case .csv: print(report.csv(language), terminator: "")
                case .json: FileHandle.standardOutput.write(report.json())
                }
            }
        }
    }
}

struct DrawCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "draw", abstract: "Prize draws of the program (Rules/draws.yaml).",
                                                    subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a prize draw from a published seed; its prizes post to the ledger.",
            discussion: """
                The residents who earned at least the draw's pointsMin on the days of its period (prizes of draws \
                left out) and meet its conditions are eligible; its number of prizes are picked from them by a \
                shuffle seeded with SHA-256 of the draw id and --seed (publish the seed first: a lottery result, a \
                newspaper's number), so anyone with the seed and the ledger gets the same winners. The seed, the \
                eligible count and the winners are recorded with the prizes, in one transaction. A draw runs once \
                its period can no longer change (after the program's eventAgeDaysMax days) and only once: running \
                it again with the same seed prints the recorded result; with another seed it is refused. Prints \
                the eligible count and the winners' pseudonymous ids.
                """)

        @OptionGroup var data: DataOptions

        @Option(name: .customLong("draw"), help: "The draw's id in Rules/draws.yaml.")
        var draw: String

        @Option(help: "The published seed.")
        var seed: String

        func run() async throws {
            try await reportingFailures {
                let (draw, record, rerun) = try await data.openExisting(readOnly: false).draws.run(id: self.draw, seed: seed)
                print("\(rerun ? "already run" : "ran") \(draw.id) (\(draw.name.en)) on \(record.runAt.formatted(.iso8601)) with seed '\(record.seed)': "
                      + "\(record.eligible) eligible, \(record.winners.count) prizes of \(draw.prizePoints) points from \(draw.sponsor)")
                for winner in record.winners { print(winner) }
            }
        }
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "Inspect the ledger.",
                                                    subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the ledger invariants.",
            discussion: """
                A transfer is one row (debit, credit, amount), so it sums to zero by its shape. This checks that \
                every balance equals its transfers, no resident balance is negative, each resident's open lots add \
                up to their balance, each lot holds its points less its draws, each redemption's draws add up to \
                its points, no lot was drawn after its last day, no resident drew another's lot, and every draw moves \
                points from its redemption's resident, out of an award, to its merchant. Exits 1 and \
                lists what is wrong (at most 100 findings of each kind). It opens the existing database in --data-dir read-only, never \
                creates one, and exits 1 naming the path when there is none.
                """)

        @OptionGroup var data: DataOptions

        func run() async throws {
            try await reportingFailures {
                let audit = try await data.openExisting(readOnly: true).reporting.verifyLedger()
                let violations = audit.violations
                guard violations.isEmpty else {
                    throw CLIFailure((violations.map { "error: \($0)" }
                        + ["\(violations.count) invariant violations (at most \(LedgerAudit.findingsPerKindMax) of each kind are listed)"])
                        .joined(separator: "\n"))
                }
                print("ok: \(audit.transferCount) transfers; every invariant holds")
            }
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database to a new file, while the server runs.",
        discussion: """
            Uses SQLite's online backup, so serving goes on. The copy holds everything, the redemption \
            signing key and token hashes included: keep it as safe as the database. To restore, stop the \
            server and put the copy in place as <data-dir>/ayumi.sqlite. Copies whatever SQLite file is there, \
            written by any Ayumi version (take one before an upgrade); never creates a database.
            """)

    @OptionGroup var data: DataOptions

    @Option(help: "The new file to write (never overwritten).")
    var output: String

    func run() async throws {
        try await reportingFailures {
            try await Bootstrap.backup(dataDirectory: data.resolvedDataDirectory, toPath: output, logger: makeLogger())
            print("ok: backup written to \(output)")
        }
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Export reports.", subcommands: [Beneficiaries.self, KPIs.self])

    struct KPIs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kpis",
            abstract: "The monthly indicators beside their targets (Rules/kpis.yaml).",
            discussion: """
                Output indicators (enrolled residents, active rate, points awarded, redemptions) and outcome \
                indicators (average daily steps over the days residents reported a walk, each day at its largest \
                report; the share of walkers whose average reached 8,000 steps; transit rides per active resident; \
                downtown visits), a column per month, with the target and its year. A figure drawn from fewer \
                residents than reportGroupSizeMin reads X. The same ledger gives byte-identical output.
                """)

        /// The report's formats, as `--help` lists them; each is a `ReportFormat` of the same name.
        enum Format: String, ExpressibleByArgument { case csv, json, xlsx, html }

        @OptionGroup var data: DataOptions

        @Option(help: "The first month, YYYY-MM.")
        var from: String

        @Option(help: "The last month, YYYY-MM.")
        var to: String

        @Option(help: "csv (UTF-8 with BOM), json, xlsx, or html (a printable page: a bar chart per indicator with its target line, no script).")
        var format: Format = .csv

        @Option(help: "Name language: ja or en.")
        var language: Language = .ja

        @Option(help: "Write to this file instead of standard output.")
        var output: String?

        func run() async throws {
            try await reportingFailures {
                let report = try await data.openExisting(readOnly: true).reporting.kpis(from: from, to: to)
                try write(report.rendered(ReportFormat(rawValue: format.rawValue)!, language: language), to: output)
            }
        }
    }

    struct Beneficiaries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who gained what and who paid: residents, the city, transit operators and merchants, and the cost to share.",
            discussion: """
                Days are local days of the program's time zone, both ends included, at most 3,660 of them; \
                baselines are compared with the days that have ended (up to yesterday). First the points awarded, \
                redeemed and expired per sponsor, rule and merchant, with the residents behind them. When the \
                program has Rules/benefits.yaml, fares.yaml and costs.yaml, then: residents by age band and \
                district; the city's medical cost saved (additional steps a day against each participant's own \
                baseline, their first baselineDays from enrolment, × the coefficient of benefits.yaml); rides and \
                fare revenue, and their increase over the baseline; redemptions, downtown visits and the sales \
                from additional visits; the yen each sponsor paid for redeemed points, points expired back to each \
                sponsor and the operating cost by layer; and a share of the total cost for each party in \
                proportion to its measured benefit, beside what it paid (docs/reports.md gives every formula). \
                Every figure states its unit and how it was computed; the coefficients and their sources are \
                printed with it. A figure drawn from fewer residents than the program's reportGroupSizeMin reads \
                X, and so does every figure that would give one back (complementary suppression): in the \
                ledger summary each section's suppressed figures are shown only as their sum in a row with id *. \
                The same ledger and period always give byte-identical output. Reads the existing database in \
                --data-dir and the program the server installed; never creates a database.
                """)

        enum Format: String, ExpressibleByArgument { case csv, json, xlsx, html }

        @OptionGroup var data: DataOptions

        @OptionGroup var period: PeriodOptions

        @Option(help: "csv (UTF-8 with BOM; each further table after an empty line), json, xlsx (a sheet per table, numbers as numbers, headers in Japanese and English), or html (a printable page with SVG charts, no script).")
        var format: Format = .csv

        @Option(help: "Language of headers and names (names only for xlsx, whose headers carry both): ja or en.")
        var language: Language = .en

        @Option(help: "Write to this file instead of standard output.")
        var output: String?

        func run() async throws {
            try await reportingFailures {
                let (from, to) = try period.days()
                let report = try await data.openExisting(readOnly: true).reporting.beneficiaryReport(from: from, to: to)
                try write(report.rendered(ReportFormat(rawValue: format.rawValue)!, language: language), to: output)
            }
        }
    }
}

extension Language: ExpressibleByArgument {}

/// `--from` and `--to`: a period of local days, both included.
struct PeriodOptions: ParsableArguments {
    @Option(help: "First local day, YYYY-MM-DD.")
    var from: String

    @Option(help: "Last local day, YYYY-MM-DD.")
    var to: String

    func days() throws -> (LocalDate, LocalDate) {
        guard let first = LocalDate(from) else { throw CLIFailure("error: --from: expected YYYY-MM-DD, got '\(from)'") }
        guard let last = LocalDate(to) else { throw CLIFailure("error: --to: expected YYYY-MM-DD, got '\(to)'") }
        return (first, last)
    }
}

struct LotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lots", abstract: "The lots residents' points are kept in.",
                                                    subcommands: [Expire.self])

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return the unspent points of lots past their last day to the sponsors that funded them.",
            discussion: """
                Every lot whose last day is before --as-of (default: today in the program's time zone) gives its \
                unspent points back to its sponsor as a ledger transfer dated the day after its last day; residents \
                see an "expired" line in their history. The server does the same at start and every hour. Running \
                it again, or in two processes at once, expires each point once. Prints the lots and points expired.
                """)

        @OptionGroup var data: DataOptions

        @Option(name: .customLong("as-of"), help: "A local day as YYYY-MM-DD (default: today).")
        var asOf: String?

        func run() async throws {
            try await reportingFailures {
                let ayumi = try await data.openExisting(readOnly: false)
                let day: LocalDate
                if let asOf {
                    guard let parsed = LocalDate(asOf) else { throw CLIFailure("error: --as-of: a local day as YYYY-MM-DD") }
                    // Points still valid must not be taken: only days that have come.
                    guard parsed <= ayumi.dependencies.today else {
                        throw CLIFailure("error: --as-of \(parsed) is after today (\(ayumi.dependencies.today)); points valid until then would expire early")
                    }
                    day = parsed
                } else {
                    day = ayumi.dependencies.today
                }
                let run = try await ayumi.accounts.expireLots(asOf: day)
                print("expired \(run.points) points in \(run.lots) lots past their last day before \(day)")
            }
        }
    }
}

struct Settle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Settle a month: each merchant's statement, and the yen each sponsor owes it.",
        discussion: """
            For every merchant with redemptions or refunds in the month (local days of the program's time zone): \
            the points it took and gave back, per sponsor of the lots they came from, and the yen each sponsor \
            owes it for the points it kept (net points × yenPerPoint, the rate when settled). A month is \
            settled from the second day after it, and only once: its statements are frozen as first written, \
            and running it again prints them unchanged. A refund counts in the month it is made; one of an \
            earlier month's redemption is listed as an adjustment. --format csv (UTF-8 with BOM, so Excel opens Japanese names), \
            json, or html (a printable page per merchant). GET /v1/admin/settlements/{month} serves the same.
            """)

    enum Format: String, ExpressibleByArgument { case csv, json, html }

    @OptionGroup var data: DataOptions

    @Option(help: "The month as YYYY-MM.")
    var month: String

    @Option(help: "csv, json or html.")
    var format: Format = .csv

    @Option(help: "Header and name language: ja or en.")
    var language: Language = .ja

    @Option(help: "Write to this file instead of standard output.")
    var output: String?

    func run() async throws {
        try await reportingFailures {
            let settlement = try await data.openExisting(readOnly: false).reporting.settle(month: month)
            try write(settlement.rendered(ReportFormat(rawValue: format.rawValue)!, language: language), to: output)
        }
    }
}

struct ResidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "residents", abstract: "Residents' printed cards, for those without a smartphone.",
        subcommands: [Card.self, UnlockCard.self])

    struct Card: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a card and a PIN to a resident; any earlier card stops working.",
            discussion: """
                Writes a print-ready A4 SVG page with one bank-card-sized card (85.6 x 54 mm): the program's name, \
                the 16-digit card number and a QR code of the number only, never the resident's id. Prints the \
                4-digit PIN once, to hand to the resident apart from the card; it is stored only as a salted \
                PBKDF2-SHA256 hash. At the till the shop scans the card and the resident types the PIN; five \
                wrong PINs lock the card until `ayumi residents unlock-card`. Issuing again replaces a lost card.
                """)

        @OptionGroup var data: DataOptions

        @Option(help: "The resident's id.")
        var resident: String

        @Option(help: "Where to write the SVG page (default: card-<resident>.svg).")
        var output: String?

        func run() async throws {
            try await reportingFailures {
                let ayumi = try await data.openExisting(readOnly: false)
                let card = try await ayumi.cards.issue(residentID: resident)
                let name = ayumi.dependencies.program.current.ruleset.program.name
                let path = output ?? "card-\(resident).svg"
                try writeOwnerOnly(Data(try CardPrint.svg(number: card.number, programName: (name.ja, name.en)).utf8), to: path)
                print("card \(card.number) written to \(path)")
                print("PIN \(card.pin) (hand it to the resident apart from the card; it is not shown again)")
            }
        }
    }

    struct UnlockCard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unlock-card",
                                                        abstract: "Unlock a resident's card locked by wrong PINs (the city office, having seen the resident).")

        @OptionGroup var data: DataOptions

        @Option(help: "The resident's id.")
        var resident: String

        func run() async throws {
            try await reportingFailures {
                try await data.openExisting(readOnly: false).cards.unlock(residentID: resident)
                print("card of \(resident) unlocked")
            }
        }
    }
}

/// A report's bytes to `--output`, or to standard output when none is given.
func write(_ data: Data, to output: String?) throws {
    guard let output else { return FileHandle.standardOutput.write(data) }
    try writeOwnerOnly(data, to: output)
}

/// Writes a file only its owner can read, as the server's files are: reports name residents' groups
/// and shops' takings, a card page holds the number a till accepts.
func writeOwnerOnly(_ data: Data, to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
        throw CLIFailure("error: cannot write \(path)")
    }
}
