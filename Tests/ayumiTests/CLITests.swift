import AyumiBootstrap
import AyumiCore
import AyumiServices
import AyumiTestSupport
import Foundation
import Testing

/// The `ayumi` command as an operator runs it: exit status, standard output and standard error.
struct CLI {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// The binary `swift build --build-tests` put beside the test bundle.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ayumi").path

    /// Runs in the tests' program root by default: the `Rules/` and `Merchants/` a command finds
    /// there are the tests' own, not the city's.
    static func run(_ arguments: [String], directory: String = Fixture.programRoot) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("AYUMI_") { environment[key] = nil }
        process.environment = environment
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                      error: String(decoding: errorData, as: UTF8.self))
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-cli-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

@Suite("ayumi command line")
struct CLITests {
    @Test("the binary is there to test")
    func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.executable), "\(CLI.executable)")
    }

    @Test("rules check passes on the program it finds and names file:line:col for a broken rule")
    func rulesCheck() throws {
        let good = try CLI.run(["rules", "check"])
        #expect(good.status == 0)
        #expect(good.output.hasPrefix("ok: Rules version "))

        let copy = CLI.temporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixture.rulesDirectory) {
            try FileManager.default.copyItem(atPath: Fixture.rulesDirectory + "/" + name, toPath: copy + "/" + name)
        }
        let walk = try String(contentsOfFile: copy + "/walk.yaml", encoding: .utf8)
        try walk.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: five}")
            .write(toFile: copy + "/walk.yaml", atomically: true, encoding: .utf8)
        let lines = walk.split(separator: "\n", omittingEmptySubsequences: false)
        let line = lines.firstIndex { $0.contains("{per: day, points: 5}") }! + 1
        let column = lines[line - 1].distance(from: lines[line - 1].startIndex, to: lines[line - 1].firstIndex(of: "5")!) + 1
        let bad = try CLI.run(["rules", "check", copy])
        #expect(bad.status == 1)
        #expect(bad.error == "\(copy)/walk.yaml:\(line):\(column): error: expected a whole number\n")

        // Nothing to read at all is not the same failure as a wrong file: exit 2.
        let missing = try CLI.run(["rules", "check", copy + "/nowhere"])
        #expect(missing.status == 2)
        #expect(missing.error == "\(copy)/nowhere:1:1: error: cannot read the rules directory\n")
    }

    static let maintenance: [[String]] = [
        ["ledger", "verify"], ["report", "beneficiaries", "--from", "2026-11-01", "--to", "2026-11-30"], ["tokens", "list"],
        ["tokens", "create", "--role", "admin"], ["tokens", "revoke", "1"], ["backup", "--output", "BACKUP"],
    ]

    @Test("the maintenance commands never create a database: they name the path they looked for and exit 1", arguments: maintenance)
    func missingDatabase(arguments: [String]) throws {
        let parent = CLI.temporaryDirectory()
        let data = parent + "/mistyped"
        let result = try CLI.run(arguments.map { $0 == "BACKUP" ? parent + "/backup.sqlite" : $0 } + ["--data-dir", data])
        #expect(result.status == 1)
        #expect(result.error == "error: No database at \(data)/ayumi.sqlite. Check --data-dir (or AYUMI_DATA_DIR); "
                + "`ayumi serve` creates the database on its first start.\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    @Test("the maintenance commands leave an empty or foreign file as it is and say what it is", arguments: maintenance)
    func foreignFile(arguments: [String]) throws {
        for foreign in [false, true] {
            let data = CLI.temporaryDirectory()
            let path = data + "/ayumi.sqlite"
            if foreign {
                // A SQLite database another program made, in rollback-journal mode.
                let made = try runProgram("/usr/bin/sqlite3", [path, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('x');"])
                #expect(made.status == 0)
            } else {
                FileManager.default.createFile(atPath: path, contents: Data())
            }
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            let result = try CLI.run(arguments.map { $0 == "BACKUP" ? data + "/backup.sqlite" : $0 } + ["--data-dir", data])
            if arguments.first == "backup" && foreign {
                // A backup copies any SQLite file: it is taken before an upgrade, whatever wrote it.
                #expect(result.status == 0)
            } else {
                #expect(result.status == 1)
                #expect(result.error == "error: \(path) is not an Ayumi database (empty, not SQLite, or made by another program).\n")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "\(arguments) changed the file")
        }
    }

    @Test("serve writes the first-start tokens to a file only its owner can read, and prints only where it is")
    func firstStartTokens() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        let file = server.data + "/first-start-tokens.sh"
        func mode(_ path: String) throws -> Int? { (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue }
        #expect(try mode(file) == 0o600)
        // The database and its WAL hold the signing key and token hashes: the owner's alone.
        #expect(try mode(server.data) == 0o700)
        #expect(try mode(server.data + "/ayumi.sqlite") == 0o600)
        #expect(try mode(server.data + "/ayumi.sqlite-wal") == 0o600)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("export AYUMI_URL=http://127.0.0.1:\(server.port)\n"))
        #expect(text.contains("export AYUMI_INGEST_TOKEN=ayumi_ingest_"))
        #expect(text.contains("   # ingest feed 'metro-feed'\n"))
        #expect(text.contains("export AYUMI_FEED_CHECKIN_FEED_TOKEN=ayumi_ingest_"))
        #expect(text.contains("   # merchant shop-1\n"))
        let output = server.output() + server.log()
        #expect(output.contains(file))
        #expect(output.contains("First-start tokens created"))
        #expect(!output.contains("ayumi_admin_") && !output.contains("ayumi_ingest_") && !output.contains("ayumi_merchant_"))
        #expect(try CLI.curl(["\(server.url)/v1/reports/beneficiaries?from=2026-11-01&to=2026-11-30", "-H",
                              "Authorization: Bearer \(server.token("AYUMI_ADMIN_TOKEN"))"]).status == 200)
    }

    @Test("rules explain judges an event against the stored resident and counters, says why each rule does or does not fire, and records nothing")
    func explain() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        let admin = try server.token("AYUMI_ADMIN_TOKEN"), feed = try server.token("AYUMI_FEED_METRO_FEED_TOKEN")
        #expect(try CLI.curl(["-X", "POST", "\(server.url)/v1/residents", "-H", "Authorization: Bearer \(admin)",
                              "-d", #"{"resident":"r-1","birthYear":1950,"district":"14101"}"#]).status == 201)
        let at = Date().addingTimeInterval(-120).formatted(.iso8601)
        let tap = #"{"id":"t-1","kind":"transit_tap","resident":"r-1","at":"\#(at)","mode":"bus","route":"r10","stop":"s1"}"#
        #expect(try CLI.curl(["-X", "POST", "\(server.url)/v1/events", "-H", "Authorization: Bearer \(feed)", "-d", "[\(tap)]"]).status == 200)

        let file = CLI.temporaryDirectory() + "/event.json"
        try tap.replacingOccurrences(of: "t-1", with: "t-2").write(toFile: file, atomically: true, encoding: .utf8)
        let explained = try CLI.run(["rules", "explain", "--event", file, "--data-dir", server.data])
        #expect(explained.status == 0, "\(explained.error)")
        let lines = explained.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(explained.output)")
        #expect(lines.first?.hasPrefix("Event t-2 (transit_tap, resident r-1, ") == true)
        // The first tap went to the city (listed first); this one goes to the operator.
        #expect(lines.dropFirst().first == "  + metro-ride (Public transport ride): awards 1 point; funded by metro-company 1 "
                    + "(funded so far under this rule: health-office 1, metro-company 0; shares health-office 50%, metro-company 50%)")
        #expect(lines.contains("  (2 rules for other kinds of event not considered)"))
        #expect(lines.last == "total: 1 points")

        // The first tap itself: recorded, and said so.
        try tap.write(toFile: file, atomically: true, encoding: .utf8)
        let recorded = try CLI.run(["rules", "explain", "--event", file, "--data-dir", server.data])
        #expect(recorded.output.split(separator: "\n").dropFirst().first
                    == "already recorded from this submitter: sending it again changes nothing (judged below against counters that include it)")

        let walk = #"{"id":"w-1","kind":"walk","resident":"r-1","date":"\#(CLI.tokyoToday())","steps":1500}"#
        try walk.write(toFile: file, atomically: true, encoding: .utf8)
        let japanese = try CLI.run(["rules", "explain", "--event", file, "--language", "ja", "--data-dir", server.data])
        #expect(japanese.output.contains("  - walk-bands (ウォーキング): 条件を満たさない（1日2,000歩以上）"), "\(japanese.output)")

        // Nothing was recorded: the resident has the first tap's point only.
        let ayumi = try await Bootstrap.openExisting(dataDirectory: server.data, readOnly: true, logger: .init(label: "test"))
        #expect(try await ayumi.accounts.balance(residentID: "r-1").spendable == 1)
        let unknown = #"{"id":"w-2","kind":"walk","resident":"r-404","date":"2026-11-25","steps":1500}"#
        try unknown.write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try CLI.run(["rules", "explain", "--event", file, "--data-dir", server.data])
        #expect(refused.status == 1)
        #expect(refused.error == "error: No resident 'r-404' is enrolled.\n")
    }

    @Test("rules backtest prints the ledger beside a candidate, as a table, CSV or JSON; a broken candidate exits 1")
    func backtest() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        let admin = try server.token("AYUMI_ADMIN_TOKEN"), ingest = try server.token("AYUMI_INGEST_TOKEN")
        #expect(try CLI.curl(["-X", "POST", "\(server.url)/v1/residents", "-H", "Authorization: Bearer \(admin)",
                              "-d", #"{"resident":"r-1","birthYear":1950,"district":"14101"}"#]).status == 201)
        let today = CLI.tokyoToday()
        #expect(try CLI.curl(["-X", "POST", "\(server.url)/v1/events", "-H", "Authorization: Bearer \(ingest)",
                              "-d", #"[{"id":"w-1","kind":"walk","resident":"r-1","date":"\#(today)","steps":12000}]"#]).status == 200)
        let candidate = CLI.temporaryDirectory()
        try FileManager.default.copyItem(atPath: Fixture.rulesDirectory, toPath: candidate + "/Rules")
        let walk = try String(contentsOfFile: candidate + "/Rules/walk.yaml", encoding: .utf8)
        try walk.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 3}")
            .write(toFile: candidate + "/Rules/walk.yaml", atomically: true, encoding: .utf8)
        let arguments = ["rules", "backtest", "--rules", candidate + "/Rules", "--from", today, "--to", today, "--data-dir", server.data]
        let table = try CLI.run(arguments)
        #expect(table.status == 0, "\(table.error)")
        #expect(table.output.hasPrefix("Backtest \(today) to \(today): 1 stored events, candidate Rules version "))
        #expect(table.output.contains("total: points"))
        // One resident is fewer than the program's group size: the figures read X.
        let csv = try CLI.run(arguments + ["--format", "csv"])
        #expect(csv.output.contains("total,points,X,X,X\r\n"))
        let json = try CLI.run(arguments + ["--format", "json"])
        #expect(json.output.contains(#""section":"total""#))

        try walk.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: dai, points: 3}")
            .write(toFile: candidate + "/Rules/walk.yaml", atomically: true, encoding: .utf8)
        let broken = try CLI.run(arguments)
        #expect(broken.status == 1)
        #expect(broken.error.contains("walk.yaml:") && broken.error.contains("error: per must be one of: day, week, month, program"))
    }

    @Test("an acknowledged award survives kill -9 of the server the moment the answer arrives")
    func durableAfterKill() async throws {
        let server = try await Server.start()
        defer { server.kill() }
        let enrolled = try CLI.curl(["-X", "POST", "\(server.url)/v1/residents", "-H", "Authorization: Bearer \(server.token("AYUMI_ADMIN_TOKEN"))",
                                     "-d", #"{"resident":"r-1","birthYear":1950,"district":"14101"}"#])
        #expect(enrolled.status == 201)
        let today = CLI.tokyoToday()
        let answer = try CLI.curl(["-X", "POST", "\(server.url)/v1/events", "-H", "Authorization: Bearer \(server.token("AYUMI_INGEST_TOKEN"))",
                                   "-d", #"[{"id":"w-1","kind":"walk","resident":"r-1","date":"\#(today)","steps":8000}]"#])
        #expect(answer.status == 200)
        #expect(answer.body.contains(#""status":"accepted""#))
        server.kill()
        let ayumi = try await Bootstrap.openExisting(dataDirectory: server.data, readOnly: true, logger: .init(label: "test"))
        #expect(try await ayumi.accounts.balance(residentID: "r-1").spendable == 4)
        #expect(try await ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("tokens: created with a source and a lifetime, listed without the secret, revoked and refused at once by the running server")
    func tokens() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        let created = try CLI.run(["tokens", "create", "--role", "ingest", "--source", "metro-feed", "--expires-in", "90d",
                                   "--data-dir", server.data])
        #expect(created.status == 0)
        let token = created.output.trimmingCharacters(in: .newlines)
        #expect(token.hasPrefix("ayumi_ingest_"))
        let events = #"[{"id":"t-1","kind":"transit_tap","resident":"nobody","at":"2026-11-25T11:00:00+09:00","mode":"bus","route":"r","stop":"s"}]"#
        let posted = try CLI.curl(["-X", "POST", "\(server.url)/v1/events", "-H", "Authorization: Bearer \(token)", "-d", events])
        #expect(posted.status == 200, "\(posted.body)")

        let list = try CLI.run(["tokens", "list", "--data-dir", server.data])
        #expect(list.status == 0)
        let lines = list.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ID  ROLE      FOR") == true)
        #expect(lines.count == 7)
        let row = try #require(lines.last { $0.contains("feed:metro-feed") })
        #expect(row.hasSuffix("active"))
        #expect(!list.output.contains(token) && !list.output.contains("ayumi_"))
        let id = String(row.prefix { $0 != " " })
        #expect(id == "6")

        let revoked = try CLI.run(["tokens", "revoke", id, "--data-dir", server.data])
        #expect(revoked.status == 0)
        #expect(revoked.output.hasPrefix("ok: token 6 (ingest) revoked at "))
        let refused = try CLI.curl(["-X", "POST", "\(server.url)/v1/events", "-H", "Authorization: Bearer \(token)", "-d", events])
        #expect(refused.status == 401)
        let ingestOnly = try CLI.run(["tokens", "list", "--role", "ingest", "--data-dir", server.data]).output.split(separator: "\n")
        #expect(ingestOnly.count == 5)
        #expect(ingestOnly.last?.hasSuffix("revoked") == true)

        let mismatched = try CLI.run(["tokens", "create", "--role", "resident", "--merchant", "shop-1", "--data-dir", server.data])
        #expect(mismatched.status == 1)
        #expect(mismatched.error == "error: --merchant goes with --role merchant, --resident with --role resident\n")
        let noSource = try CLI.run(["tokens", "create", "--role", "ingest", "--data-dir", server.data])
        #expect(noSource.status == 1)
        #expect(noSource.error.hasPrefix("error: an ingest token needs a source"))
        let badLifetime = try CLI.run(["tokens", "create", "--role", "admin", "--expires-in", "soon", "--data-dir", server.data])
        #expect(badLifetime.status == 1)
        #expect(badLifetime.error == "error: --expires-in: expected a number and a unit (s, m, h or d), such as 90d; got 'soon'\n")
    }

    @Test("SIGHUP puts an edited registry in force without a restart; a broken one is refused and changes nothing")
    func reloadOnHangup() async throws {
        let copy = CLI.temporaryDirectory() + "/merchants.yaml"
        let registry = try String(contentsOfFile: Fixture.merchantsFile, encoding: .utf8)
        try registry.write(toFile: copy, atomically: true, encoding: .utf8)
        let server = try await Server.start(merchantsFile: copy)
        defer { server.stop() }
        let merchant = try server.token("AYUMI_MERCHANT_TOKEN")
        func tillStatus() throws -> Int {
            try CLI.curl(["-X", "POST", "\(server.url)/v1/redemptions", "-H", "Authorization: Bearer \(merchant)", "-d", "{}"]).status
        }
        #expect(try tillStatus() == 400, "the till is let in, and its empty body refused")

        try "merchants: [".write(toFile: copy, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        for _ in 0..<50 where !server.log().contains("Program reload refused") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(server.log().contains("Program reload refused"))
        #expect(try tillStatus() == 400, "a broken registry changes nothing")

        let inactive = registry.replacingOccurrences(of: "    settlementAccount: ACCT-SHOP-1\n",
                                                     with: "    settlementAccount: ACCT-SHOP-1\n    active: false\n")
        try inactive.write(toFile: copy, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        var status = 0
        for _ in 0..<50 where status != 401 {
            try await Task.sleep(for: .milliseconds(100))
            status = try tillStatus()
        }
        #expect(status == 401, "shop-1 left: its till is refused without a restart")
        let listed = try CLI.run(["tokens", "list", "--role", "merchant", "--data-dir", server.data])
        #expect(listed.output.split(separator: "\n").last?.hasSuffix("merchant-inactive") == true, "\(listed.output)")
    }

    @Test("ledger verify, report and backup read the database the server made, from a directory without Rules/")
    func maintenanceWithoutRules() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        let elsewhere = CLI.temporaryDirectory()
        let verify = try CLI.run(["ledger", "verify", "--data-dir", server.data], directory: elsewhere)
        #expect(verify.status == 0)
        #expect(verify.output == "ok: 0 transfers; every invariant holds\n")

        let file = elsewhere + "/report.csv"
        let report = try CLI.run(["report", "beneficiaries", "--from", "2026-11-01", "--to", "2026-11-30", "--output", file,
                                  "--language", "ja", "--data-dir", server.data], directory: elsewhere)
        #expect(report.status == 0)
        // Like the server's files, what the CLI writes only its owner can read.
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // Read as bytes: String(contentsOfFile:) would drop the byte order mark Excel needs.
        let csv = String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self)
        #expect(csv.hasPrefix("\u{FEFF}区分,ID,名称,付与ポイント,付与額（円）,付与対象住民数,利用ポイント,利用額（円）,利用住民数,失効ポイント,失効額（円）,失効住民数\r\n"))
        let again = try CLI.run(["report", "beneficiaries", "--from", "2026-11-01", "--to", "2026-11-30", "--language", "ja",
                                 "--data-dir", server.data], directory: elsewhere)
        #expect(again.output == csv)
        // The program the server installed measures benefits: the tables follow, from the stored ruleset.
        #expect(csv.contains("\r\n\r\n表,主体,主体名,項目,名称,値,単位,算出方法\r\n"))
        let page = try CLI.run(["report", "beneficiaries", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "html",
                                "--language", "en", "--data-dir", server.data], directory: elsewhere)
        #expect(page.status == 0 && page.output.hasPrefix("<!DOCTYPE html>") && page.output.contains("Medical cost saved (estimate)"))
        #expect(page.output.contains("University of Tsukuba") && !page.output.contains("<script"))
        // Two processes, the same bytes: the workbook has no clock in it.
        let books = try (1...2).map { run -> Data in
            let path = elsewhere + "/report-\(run).xlsx"
            let result = try CLI.run(["report", "beneficiaries", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx", "--output", path,
                                      "--data-dir", server.data], directory: elsewhere)
            #expect(result.status == 0)
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        #expect(books[0] == books[1] && books[0].starts(with: Data("PK".utf8)))

        let backup = elsewhere + "/copy.sqlite"
        let backedUp = try CLI.run(["backup", "--output", backup, "--data-dir", server.data], directory: elsewhere)
        #expect(backedUp.status == 0)
        #expect(backedUp.output == "ok: backup written to \(backup)\n")
        let restored = CLI.temporaryDirectory()
        try FileManager.default.copyItem(atPath: backup, toPath: restored + "/ayumi.sqlite")
        #expect(try CLI.run(["ledger", "verify", "--data-dir", restored], directory: elsewhere).status == 0)
        let overwrite = try CLI.run(["backup", "--output", backup, "--data-dir", server.data], directory: elsewhere)
        #expect(overwrite.status == 1)
        #expect(overwrite.error == "error: \(backup) exists; a backup never overwrites a file\n")

        let badDate = try CLI.run(["report", "beneficiaries", "--from", "2026-11-31", "--to", "2026-11-30", "--data-dir", server.data])
        #expect(badDate.status == 1)
        #expect(badDate.error == "error: --from: expected YYYY-MM-DD, got '2026-11-31'\n")
        let unknownMerchant = try CLI.run(["tokens", "create", "--role", "merchant", "--merchant", "m-999", "--data-dir", server.data])
        #expect(unknownMerchant.status == 1)
        #expect(unknownMerchant.error == "error: No merchant 'm-999' is registered.\n")
    }
}

/// The one test that reads the repository's own `Rules/` and `Merchants/`: the city's files, which
/// the README invites it to edit. It asserts only what must hold whatever the city writes there
/// (the program checks, a server starts on it, a resident enrols and a walk within the program's
/// bounds is accepted, the ledger verifies), never one of the city's ids or numbers. Every other
/// test runs the tests' own program in `Tests/Fixtures`.
@Suite("The city's own program")
struct CityProgramSmokeTests {
    @Test("a printed card page is written for its owner only: it holds the number a till accepts")
    func cardFileIsPrivate() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        let admin = try server.token("AYUMI_ADMIN_TOKEN")
        #expect(try CLI.curl(["-X", "POST", "\(server.url)/v1/residents", "-H", "Authorization: Bearer \(admin)",
                              "-d", #"{"resident":"r-1","birthYear":1950,"district":"14101"}"#]).status == 201)
        let path = CLI.temporaryDirectory() + "/card.svg"
        let issued = try CLI.run(["residents", "card", "--resident", "r-1", "--output", path, "--data-dir", server.data])
        #expect(issued.status == 0, "\(issued.error)")
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("<"))
    }

    @Test("the city's own Rules/ and Merchants/ load, check and serve a walk")
    func citysOwnProgram() async throws {
        let checked = try CLI.run(["rules", "check"], directory: Fixture.repositoryRoot)
        #expect(checked.status == 0, "\(checked.error)")
        #expect(checked.output.hasPrefix("ok: Rules version "), "\(checked.output)")

        let server = try await Server.start(rulesDirectory: Fixture.repositoryRoot + "/Rules",
                                            merchantsFile: Fixture.repositoryRoot + "/Merchants/merchants.yaml")
        defer { server.stop() }
        let admin = try server.token("AYUMI_ADMIN_TOKEN")
        #expect(try CLI.curl(["-X", "POST", "\(server.url)/v1/residents", "-H", "Authorization: Bearer \(admin)",
                              "-d", #"{"resident":"r-1","birthYear":1950,"district":"14101"}"#]).status == 201)

        // Who may report a walk, its bounds and the day it falls on are the city's to choose: read them from the program in force.
        let stored = try await Bootstrap.openExisting(dataDirectory: server.data, readOnly: true, logger: .init(label: "test"))
        let program = stored.dependencies.program.current.ruleset.program
        let walkers = (program.submitters["walk"] ?? []).map(\.description)
        let token: String
        if walkers.contains("resident") {
            let created = try CLI.run(["tokens", "create", "--role", "resident", "--resident", "r-1", "--data-dir", server.data])
            #expect(created.status == 0, "\(created.error)")
            token = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if walkers.contains("ingest") {
            token = try server.token("AYUMI_INGEST_TOKEN")
        } else {
            let feed = try #require(walkers.first { $0.hasPrefix("ingest:") }, "program.yaml lets someone report walks").dropFirst("ingest:".count)
            let tokens = try String(contentsOfFile: server.data + "/first-start-tokens.sh", encoding: .utf8)
            let line = try #require(tokens.split(separator: "\n").first { $0.hasSuffix("# ingest feed '\(feed)'") })
            token = String(line.dropFirst("export ".count).drop { $0 != "=" }.dropFirst().prefix { $0 != " " })
        }
        let today = LocalDate(instant: Date(), timeZone: try #require(TimeZone(identifier: program.timeZone)))
        let walk = #"[{"id":"w-1","kind":"walk","resident":"r-1","date":"\#(today)","steps":\#(program.stepsPerDayMax)}]"#
        let answer = try CLI.curl(["-X", "POST", "\(server.url)/v1/events", "-H", "Authorization: Bearer \(token)", "-d", walk])
        #expect(answer.status == 200, "\(answer.body)")
        // A program may run on some days only (program.yaml's runs): outside them a walk is judged and refused.
        let running = program.runsFrom.map { $0 <= today } ?? true && program.runsTo.map { today <= $0 } ?? true
        #expect(answer.body.contains(running ? #""status":"accepted""# : #""status":"rejected""#), "\(answer.body)")

        let verified = try CLI.run(["ledger", "verify", "--data-dir", server.data])
        #expect(verified.status == 0, "\(verified.error)")
        #expect(verified.output.hasSuffix("every invariant holds\n"), "\(verified.output)")
    }
}

/// `ayumi serve` as a child process on a fresh data directory and a free loopback port.
final class Server: @unchecked Sendable {
    let process: Process
    let data: String
    let port: Int
    let outputFile: String

    var url: String { "http://127.0.0.1:\(port)" }

    init(process: Process, data: String, port: Int, outputFile: String) {
        self.process = process
        self.data = data
        self.port = port
        self.outputFile = outputFile
    }

    /// Serves the tests' program unless told otherwise.
    static func start(rulesDirectory: String = Fixture.rulesDirectory, merchantsFile: String = Fixture.merchantsFile) async throws -> Server {
        let directory = CLI.temporaryDirectory()
        for _ in 0..<10 {
            let port = Int.random(in: 20_000...29_999)
            // A data directory per try: a try given up on a busy machine may have made the database and
            // its first-start tokens, and the next start would then mint none.
            let data = directory + "/data-\(port)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.executable)
            process.arguments = ["serve", "--data-dir", data, "--port", String(port), "--rules", rulesDirectory, "--merchants", merchantsFile]
            process.currentDirectoryURL = URL(fileURLWithPath: Fixture.programRoot)
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AYUMI_") }
            let outputFile = directory + "/serve-\(port).out"
            FileManager.default.createFile(atPath: outputFile, contents: nil)
            FileManager.default.createFile(atPath: outputFile + ".log", contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile + ".log"))
            try process.run()
            for _ in 0..<150 {
                if !process.isRunning { break }
                if (try? CLI.curl(["http://127.0.0.1:\(port)/healthz"]).status) == 200 {
                    return Server(process: process, data: data, port: port, outputFile: outputFile)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            if process.isRunning { process.terminate() }
        }
        throw CLIError("ayumi serve did not start")
    }

    func output() -> String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

    /// Standard error: the server's log.
    func log() -> String { (try? String(contentsOfFile: outputFile + ".log", encoding: .utf8)) ?? "" }

    /// A token from the first-start file.
    func token(_ name: String) throws -> String {
        let text = try String(contentsOfFile: data + "/first-start-tokens.sh", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("export \(name)=") }) else { throw CLIError("no \(name)") }
        return String(line.dropFirst("export \(name)=".count).prefix { $0 != " " })
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// SIGKILL: no shutdown, no flush; what was acknowledged must already be on disk.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension CLI {
    struct HTTPResult {
        var status: Int
        var body: String
    }

    /// One request with curl, as an operator would send it.
    static func curl(_ arguments: [String]) throws -> HTTPResult {
        let text = try runProgram("/usr/bin/curl", ["-sS", "--max-time", "10", "-w", "\n%{http_code}", "-H", "Content-Type: application/json"]
                                  + arguments).output
        let status = Int(text.split(separator: "\n").last ?? "") ?? 0
        return HTTPResult(status: status, body: String(text.dropLast(String(status).count)))
    }

    /// Today in the program's time zone, as the server will judge a walk's date.
    static func tokyoToday() -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date())
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}
