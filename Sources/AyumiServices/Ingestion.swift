import AyumiCore
import AyumiLedger
import AyumiStore
import Foundation

/// Events in: who may report them, and what the rules award for them.
public struct Ingestion: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    /// One HTTP request carries at most this many events (about 1 MiB of JSON).
    public static let eventsPerRequestMax = 1_000
    /// One batch, one transaction, at most this many events: what a feed's file import or the
    /// bench may hand over at once, and the bound of the writer's memory per command.
    public static let eventsPerBatchMax = 8_192

    /// Ingests up to `eventsPerBatchMax` events in one transaction.
    public func ingest(_ events: [Event], by principal: Principal) async throws -> [IngestResult] {
        guard events.count <= Self.eventsPerBatchMax else {
            throw AyumiError.tooManyEvents(count: events.count, max: Self.eventsPerBatchMax)
        }
        guard let submitter = principal.submitter else {
            throw AyumiError.forbidden("Events are submitted with an ingest token or the resident's own token.")
        }
        if principal.role == .resident, let other = events.first(where: { $0.residentID != principal.subject }) {
            throw AyumiError.forbidden("A resident token can submit only its own events; event '\(other.id)' is for another resident.")
        }
        // A store whose transactions interleave may find a cap taken between reading the counters and
        // adding to them; the batch then changed nothing and is judged again on fresh counters.
        for attempt in 1...Self.attemptsMax {
            do {
                return try await ingestOnce(events, submitter: submitter)
            } catch StoreError.counterLimitExceeded where attempt < Self.attemptsMax {
                continue
            } catch StoreError.counterLimitExceeded {
                throw AyumiError.busy
            }
        }
        preconditionFailure("the loop returns or throws")
    }

    static let attemptsMax = 3

    func ingestOnce(_ events: [Event], submitter: Submitter) async throws -> [IngestResult] {
        let now = dependencies.environment.now()
        let program = dependencies.program.current
        let inForce = program.evaluator(at: now), admitted = inForce.admitted
        // Each event is judged by the ruleset in force at its time, however late it arrives.
        return try await dependencies.store.ingest(events, from: submitter, at: now, counterKeys: { program.evaluator(for: $0).counterKeys(for: $0, now: now, admitted: admitted) },
                                                   decide: { event, resident, counters in
            let evaluator = program.evaluator(for: event)
            let date = evaluator.localDate(of: event)
            // Who may report comes first, by the program in force now: a source not allowed learns
            // nothing about who is enrolled. The program in force now also sets how late an event
            // may come and the budgets every award paid now draws on; the ruleset of the event's time
            // judges the rest.
            let evaluation: Evaluation = if let refusal = inForce.refusal(of: event.kind, from: submitter) {
                Evaluation(outcome: .rejected(refusal))
            } else if let resident {
                if let rejection = inForce.admission(event, from: submitter, now: now) {
                    Evaluation(outcome: .rejected(rejection))
                } else {
                    evaluator.evaluate(event, from: submitter, resident: resident, counters: counters, now: now, admitted: admitted)
                }
            } else {
                Evaluation(outcome: .rejected(LocalizedText(ja: "未登録の利用者です", en: "Unknown resident")))
            }
            return IngestDecision(evaluation: evaluation, localDate: date,
                                  expiresOn: Lots.expiry(earnedOn: date, months: evaluator.ruleset.program.pointExpiryMonths))
        })
    }
}
