import AyumiCore
import AyumiLedger
import AyumiReports
import AyumiRules
import AyumiStore
import Synchronization

/// What the city reads: the beneficiary report and the ledger's audit.
public struct Reporting: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    public func beneficiaryReport(from: LocalDate, to: LocalDate) async throws -> BeneficiaryReport {
        guard from <= to else { throw AyumiError.invalidRequest("from must not be after to") }
        guard to.dayNumber - from.dayNumber < Self.reportDaysMax else {
            throw AyumiError.invalidRequest("from and to: at most \(Self.reportDaysMax) days, from first to last")
        }
        let program = dependencies.program.current
        // Listed: what the program has now. Rules and sponsors that left it, and inactive merchants,
        // appear only when they hold figures for the period, named as their last ruleset named them.
        let names = try await namesOfEveryVersion()
        let pastNames: [BeneficiaryFacts.Section: [String: LocalizedText]] = [
            .merchant: program.merchants.mapValues(\.name), .sponsor: names.sponsors, .rule: names.rules,
        ]
        let ruleset = program.ruleset
        let listed: [BeneficiaryFacts.Section: [(id: String, name: LocalizedText)]] = [
            .sponsor: ruleset.sponsors.map { ($0.id, $0.name) },
            .rule: ruleset.rules.map { ($0.id, $0.name) },
            .merchant: program.merchants.values.filter(\.active).sorted { $0.id < $1.id }.map { ($0.id, $0.name) },
        ]
        // Sponsors that left the program are still the party they were.
        var parties = names.sponsorParties
        for sponsor in ruleset.sponsors { parties[sponsor.id] = Party(rawValue: sponsor.kind.rawValue) }
        do {
            return try await beneficiaryReport(ruleset, from: from, to: to, listed: listed, pastNames: pastNames, sponsorParties: parties)
        } catch where error is BeneficiaryReport.ReportError || error is BenefitReport.ReportError {
            throw AyumiError.invalidRequest("the period's figures in yen do not fit in 64 bits: report a shorter period")
        }
    }

    func beneficiaryReport(_ ruleset: Ruleset, from: LocalDate, to: LocalDate, listed: [BeneficiaryFacts.Section: [(id: String, name: LocalizedText)]],
                           pastNames: [BeneficiaryFacts.Section: [String: LocalizedText]], sponsorParties: [String: Party]) async throws -> BeneficiaryReport {
        // Baselines are compared over days that have ended: today's and later days' activity is not
        // all in yet.
        let measuredThrough = min(to, dependencies.today.adding(days: -1))
        // One read transaction: every figure comes from the same state of the ledger, while the
        // server goes on writing.
        return try await dependencies.reports.readReports { reader in
            let facts = try reader.beneficiaryFacts(from: from, to: to)
            var report = try BeneficiaryReport.make(
                facts: facts, listed: listed, pastNames: pastNames, programName: ruleset.program.name, rulesetVersion: ruleset.version,
                yenPerPoint: ruleset.program.yenPerPoint, groupSizeMin: ruleset.program.reportGroupSizeMin, from: from, to: to,
                residentCount: facts.residentCount)
            guard let assessment = ruleset.assessment else { return report }
            let participants = try reader.participantFacts(from: from, to: to, measuredThrough: measuredThrough, baselineDays: assessment.baselineDays,
                                                           bucketDays: BenefitReport.bucketDays(from: from, to: to), visitZones: assessment.visitZones)
            // The period's redemptions and the residents who made them: the ledger's own counts.
            let redemptions = try reader.residentPoints(from: from, to: to).redemptions
            report.benefits = try BenefitReport.make(
                facts: participants, ledgerRows: report.rows, sponsorParties: sponsorParties,
                redemptions: (redemptions.values.reduce(0, +), Int64(redemptions.count)),
                assessment: assessment, yenPerPoint: ruleset.program.yenPerPoint, groupSizeMin: ruleset.program.reportGroupSizeMin, from: from, to: to,
                measuredThrough: measuredThrough)
            return report
        }
    }

    /// A report covers at most ten years of days (the indicators, 60 months).
    public static let reportDaysMax = 3_660

    public func verifyLedger() async throws -> LedgerAudit { try await dependencies.store.audit() }

    /// The names sponsors and rules had in the latest version that named them: those that left the
    /// program still label their past figures.
    func namesOfEveryVersion() async throws -> (sponsors: [String: LocalizedText], rules: [String: LocalizedText], sponsorParties: [String: Party]) {
        var sponsors: [String: LocalizedText] = [:], rules: [String: LocalizedText] = [:], parties: [String: Party] = [:]
        for labels in try await dependencies.store.rulesets().reversed().map({ try Ruleset.Labels(canonicalJSON: $0.content) }) {
            for label in labels.sponsors {
                sponsors[label.id] = label.name
                parties[label.id] = label.kind.flatMap(Party.init(rawValue:))
            }
            for label in labels.rules { rules[label.id] = label.name }
        }
        return (sponsors, rules, parties)
    }

    /// Replays the stored events of `from...to` through `candidate` without touching the ledger and
    /// sets its figures beside what the ledger paid. Each event is judged as when it arrived (its
    /// receipt time is the clock), in the order it was recorded; the candidate's counters start
    /// empty at `from`, so limits of a week, a month or the program count from the period's start.
    public func backtest(_ candidate: Ruleset, from: LocalDate, to: LocalDate) async throws -> BacktestReport {
        guard from <= to else { throw AyumiError.invalidRequest("from must not be after to") }
        let evaluator = Evaluator(ruleset: candidate)
        // The events and what the ledger paid for them, from one state of the ledger.
        let (replay, actual) = try await dependencies.reports.readReports { reader in
            var replay = Replay()
            try reader.forEachStoredEvent(from: from, to: to) { replay.judge($0, evaluator) }
            var actual = BacktestTally(), award: Int64?
            try reader.forEachAwardShare(from: from, to: to) { share in
                // Prizes of draws: no ruleset makes them from events.
                guard !share.ruleID.hasPrefix(Award.drawRulePrefix) else { return }
                actual.add(resident: share.resident, sponsorID: share.sponsorID, points: share.points, day: share.day,
                           first: award != share.award, capped: share.capped)
                award = share.award
            }
            return (replay, actual)
        }
        let program = dependencies.program.current.ruleset.program
        return BacktestReport(from: from, to: to, candidateVersion: candidate.version, events: replay.events, actual: actual,
                              candidate: replay.tally, yenPerPoint: program.yenPerPoint, candidateYenPerPoint: candidate.program.yenPerPoint,
                              groupSizeMin: program.reportGroupSizeMin)
    }
}

/// A backtest's side of the ledger: the candidate's counters, and its figures.
struct Replay: Sendable {
    var counters: [CounterKey: Counter] = [:]
    var tally = BacktestTally()
    var events = 0

    mutating func judge(_ stored: StoredEvent, _ evaluator: Evaluator) {
        events += 1
        // An event from before submitters were kept was accepted from the only feed there was: it is
        // judged as sent by whoever the candidate lets report its kind.
        let submitter = stored.submitter ?? evaluator.firstSubmitter(of: stored.event.kind, residentID: stored.resident.id)
        let decision = evaluator.decide(stored.event, from: submitter, resident: stored.resident, counters: counters, now: stored.receivedAt)
        // Progress of streaks and milestones counts even when the event pays nothing.
        guard case .accepted(let awards, _) = decision.outcome else { return }
        for delta in decision.deltas {
            counters[delta.key, default: .zero].points += delta.points
            counters[delta.key, default: .zero].count += delta.count
        }
        for award in awards {
            for (index, share) in award.funding.enumerated() {
                tally.add(resident: stored.resident, sponsorID: share.sponsorID, points: share.points, day: decision.date,
                          first: index == 0, capped: award.cappedBy != nil)
            }
        }
    }
}
