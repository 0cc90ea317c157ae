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

    static func run(_ arguments: [String], directory: String = Fixture.repositoryRoot) throws -> Result {
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

    @Test("rules check passes on the demo city and names file:line:col for a broken rule")
    func rulesCheck() throws {
        let good = try CLI.run(["rules", "check"])
        #expect(good.status == 0)
        #expect(good.output.hasPrefix("ok: Rules version "))

        let copy = CLI.temporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixture.repositoryRoot + "/Rules") {
            try FileManager.default.copyItem(atPath: Fixture.repositoryRoot + "/Rules/" + name, toPath: copy + "/" + name)
        }
        let walk = try String(contentsOfFile: copy + "/walk.yaml", encoding: .utf8)
        try walk.replacingOccurrences(of: "pointsPerDayMax: 5", with: "pointsPerDayMax: five").write(toFile: copy + "/walk.yaml", atomically: true, encoding: .utf8)
        let line = walk.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("pointsPerDayMax") }! + 1
        let bad = try CLI.run(["rules", "check", copy])
        #expect(bad.status == 1)
        #expect(bad.error == "\(copy)/walk.yaml:\(line):20: error: expected a whole number\n")
    }

    @Test("tokens, ledger verify and the report work on one database, over the same services as HTTP")
    func database() throws {
        let data = CLI.temporaryDirectory()
        let token = try CLI.run(["tokens", "create", "--role", "merchant", "--merchant", "m-003", "--data-dir", data])
        #expect(token.status == 0)
        #expect(token.output.hasPrefix("ayumi_merchant_"))
        #expect(token.output.split(separator: "\n").count == 1)

        let unknown = try CLI.run(["tokens", "create", "--role", "merchant", "--merchant", "m-999", "--data-dir", data])
        #expect(unknown.status == 1)
        #expect(unknown.error == "error: No merchant 'm-999' is registered.\n")

        let verify = try CLI.run(["ledger", "verify", "--data-dir", data])
        #expect(verify.status == 0)
        #expect(verify.output == "ok: 0 transfers; every invariant holds\n")

        let file = data + "/report.csv"
        let report = try CLI.run(["report", "beneficiaries", "--from", "2026-11-01", "--to", "2026-11-30", "--output", file,
                                  "--language", "ja", "--data-dir", data])
        #expect(report.status == 0)
        let csv = try String(contentsOfFile: file, encoding: .utf8)
        #expect(csv.hasPrefix("区分,ID,名称,付与ポイント,利用ポイント,付与額（円）,利用額（円）,対象住民数\r\n"))
        let again = try CLI.run(["report", "beneficiaries", "--from", "2026-11-01", "--to", "2026-11-30", "--language", "ja",
                                 "--data-dir", data])
        #expect(again.output == csv)

        let backup = data + "/copy.sqlite"
        let backedUp = try CLI.run(["backup", "--output", backup, "--data-dir", data])
        #expect(backedUp.status == 0)
        #expect(backedUp.output == "ok: backup written to \(backup)\n")
        let restored = CLI.temporaryDirectory()
        try FileManager.default.copyItem(atPath: backup, toPath: restored + "/ayumi.sqlite")
        let verifyRestored = try CLI.run(["ledger", "verify", "--data-dir", restored])
        #expect(verifyRestored.status == 0)
        let tokenInCopy = try CLI.run(["tokens", "create", "--role", "admin", "--data-dir", restored])
        #expect(tokenInCopy.status == 0)
        let again2 = try CLI.run(["backup", "--output", backup, "--data-dir", data])
        #expect(again2.status == 1)
        #expect(again2.error == "error: \(backup) exists; a backup never overwrites a file\n")

        let badDate = try CLI.run(["report", "beneficiaries", "--from", "2026-11-31", "--to", "2026-11-30", "--data-dir", data])
        #expect(badDate.status == 1)
        #expect(badDate.error == "error: --from: expected YYYY-MM-DD, got '2026-11-31'\n")
    }
}
