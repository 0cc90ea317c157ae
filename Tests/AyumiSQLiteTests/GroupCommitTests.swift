@testable import AyumiSQLite
import AyumiServices
import AyumiStore
import AyumiTestSupport
import Foundation
import GRDB
import Synchronization
import Testing

@Suite("One writer, group commit")
struct GroupCommitTests {
    struct Refused: Error, Equatable {}

    @Test("commands that queue during a commit share the next one; one that fails is rolled back alone")
    func grouping() async throws {
        let fixture = try await Fixture.make(store: .sqlite)
        let store = try #require(fixture.ayumi.dependencies.store as? SQLiteStore)
        let before = store.groupCommitCount
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            // The first command holds the writer for 300 ms; the other 63 queue behind it meanwhile.
            group.addTask {
                let value = try? await store.write { db in
                    Thread.sleep(forTimeInterval: 0.3)
                    try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('group-0', 'x')")
                    return 0
                }
                return (0, value != nil)
            }
            try? await Task.sleep(for: .milliseconds(50))
            for index in 1..<64 {
                group.addTask {
                    let value = try? await store.write { db in
                        try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, 'x')", arguments: ["group-\(index)"])
                        if index == 10 { throw Refused() }
                        return index
                    }
                    return (index, value != nil)
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 64)
        #expect(results.filter { $0.value }.count == 63)
        #expect(results[10] == false)
        #expect(store.groupCommitCount - before <= 3, "64 commands in \(store.groupCommitCount - before) commits")
        let keys = try await store.database.read { db in try String.fetchAll(db, sql: "SELECT key FROM meta WHERE key LIKE 'group-%'") }
        #expect(keys.count == 63)
        #expect(!keys.contains("group-10"), "the failing command's write was rolled back with its savepoint")
    }

    @Test("64 tills scanning one code at once: exactly one redemption")
    func redemptionRace() async throws {
        let fixture = try await Fixture.make(store: .sqlite)
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        let outcomes = await withTaskGroup(of: String.self) { group in
            for index in 0..<64 {
                group.addTask {
                    do {
                        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-\(index % 9 + 1)", code: code, points: 1,
                                                                       idempotencyKey: "till-\(index)")
                        return "ok"
                    } catch let error as AyumiError {
                        return "\(error)"
                    } catch {
                        return "unexpected \(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "ok" }.count == 1)
        #expect(outcomes.filter { $0 == "codeAlreadyUsed" }.count == 63)
        #expect(try await fixture.points("r-1") == 4)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("memory is given back once nothing was written between two looks, once per quiet spell, and reads still work")
    func idleRelease() async throws {
        let fixture = try await Fixture.make(store: .sqlite)
        try await fixture.enrol("r-1")
        let health = fixture.ayumi.health
        #expect(await health.releaseMemoryIfIdle() == false, "the first look only notes the writes so far")
        #expect(await health.releaseMemoryIfIdle() == true, "caches dropped")
        #expect(await health.releaseMemoryIfIdle() == true, "the heap trimmed")
        #expect(await health.releaseMemoryIfIdle() == false, "released already, nothing new kept since")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        #expect(await health.releaseMemoryIfIdle() == false, "written since the last look: busy")
        #expect(await health.releaseMemoryIfIdle() == true)
        #expect(try await fixture.points("r-1") == 5)
        _ = try await fixture.submit([fixture.walk("w-2", "r-1", steps: 12_000)])
        #expect(try await fixture.points("r-1") == 5)
    }
}

@Suite("Direct binding on the hot path")
struct RawBindingTests {
    @Test("run inserts, firstIntegers reads back or answers nil, and a constraint failure throws SQLite's error")
    func binding() async throws {
        let fixture = try await Fixture.make(store: .sqlite)
        let store = try #require(fixture.ayumi.dependencies.store as? SQLiteStore)
        try await store.database.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO feeds(name) VALUES (?)")
            try insert.run(.text("feed-ü"))
            let id = db.lastInsertedRowID
            let read = try db.cachedStatement(sql: "SELECT id, length(name) FROM feeds WHERE name = ?")
            #expect(try read.firstIntegers(2, .text("feed-ü")) == [id, 6])
            #expect(try read.firstIntegers(2, .text("nobody")) == nil)
            #expect(throws: DatabaseError.self) { try insert.run(.text("feed-ü")) }
            // The statement is usable again after the failure.
            try insert.run(.text("feed-2"))
            #expect(try read.firstIntegers(1, .text("feed-2")) == [db.lastInsertedRowID])
        }
    }
}
