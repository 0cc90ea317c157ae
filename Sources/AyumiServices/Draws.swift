import AyumiCore
import AyumiLedger
import AyumiRules
import AyumiStore
import Foundation

/// Prize draws of the program in force, run once, reproducible from their published seed.
public struct Draws: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    var store: any Store { dependencies.store }

    /// Runs a prize draw of the program in force: the residents who earned at least its
    /// `pointsMin` in its period and meet its conditions are eligible; `prizes` of them win, picked
    /// from the published `seed` (`Draw.winners`), and their prizes post to the ledger with the
    /// record of the draw, in one transaction. A draw runs once its period can no longer change
    /// (after the days late events may still arrive) and only once: running it again with the same
    /// seed answers the recorded result (`rerun`), with another seed is refused.
    public func run(id: String, seed: String) async throws -> (draw: Draw, record: DrawRecord, rerun: Bool) {
        let ruleset = dependencies.program.current.ruleset
        guard let draw = ruleset.draws.first(where: { $0.id == id }) else { throw AyumiError.notFound("Draw '\(id)'") }
        guard !seed.isEmpty, seed.utf8.count <= 256 else { throw AyumiError.invalidRequest("--seed: 1 to 256 bytes of published text") }
        if let earlier = try await store.drawRecord(id) {
            guard earlier.seed == seed else {
                throw AyumiError.invalidRequest("draw '\(id)' was run on \(earlier.runAt.formatted(.iso8601)) with seed '\(earlier.seed)'")
            }
            return (draw, earlier, true)
        }
        let today = dependencies.today
        let closes = draw.to.adding(days: ruleset.program.eventAgeDaysMax)
        guard today > closes else {
            throw AyumiError.invalidRequest("draw '\(id)': events of its period (to \(draw.to)) may arrive until \(closes); run it from \(closes.adding(days: 1))")
        }
        let eligible = try await store.drawEntrants(from: draw.from, to: draw.to)
            .filter { $0.points >= draw.pointsMin && draw.admits($0.resident) }.map(\.resident.id)
        let record = DrawRecord(draw: id, seed: seed, eligible: eligible.count, winners: draw.winners(eligible: eligible, seed: seed),
                                runAt: dependencies.environment.now())
        let recorded = try await store.recordDraw(record, prizePoints: draw.prizePoints, sponsorID: draw.sponsor, ruleID: draw.ruleID,
                                                  rulesetVersion: ruleset.version, day: today,
                                                  expiresOn: Lots.expiry(earnedOn: today, months: ruleset.program.pointExpiryMonths))
        // Another run may have recorded the draw first: with another seed, this one is refused.
        guard recorded.seed == seed else {
            throw AyumiError.invalidRequest("draw '\(id)' was run on \(recorded.runAt.formatted(.iso8601)) with seed '\(recorded.seed)'")
        }
        dependencies.logger.info("Draw run", metadata: ["draw": "\(id)", "draw.eligible": "\(recorded.eligible)", "draw.winners": "\(recorded.winners.count)"])
        return (draw, recorded, recorded != record)
    }
}
