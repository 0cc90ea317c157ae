import Foundation
import GRDB
import Synchronization

/// One writer with group commit. Callers hand it typed commands; whoever finds no commit in
/// progress leads: it takes what has queued (up to `commandsPerGroupMax`), runs each command in
/// its own savepoint of one transaction (a command that fails is rolled back alone and answered
/// with its error), commits once, and only then answers every caller of the group. Then it hands
/// the lead to the first caller still waiting, so no caller serves others for ever.
///
/// A group is what queued while the previous commit was on its way to disk: under load, one fsync
/// carries many requests; alone, a request waits for no one. No timer, no background task.
final class GroupCommitter: Sendable {
    static let commandsPerGroupMax = 128

    let database: any DatabaseWriter
    private let state = Mutex(State())
    /// Commits done, for tests and benchmarks that show the grouping.
    private let commits = Atomic<Int>(0)

    struct State {
        var queue: [Job] = []
        var leading = false
    }

    init(database: any DatabaseWriter) { self.database = database }

    var commitCount: Int { commits.load(ordering: .relaxed) }

    /// Runs `command` in its own savepoint of the next group commit; returns once that commit is durable.
    func perform<Value: Sendable>(_ command: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        let job = Job { db in try command(db) }
        let leads = state.withLock { state in
            state.queue.append(job)
            if state.leading { return false }
            state.leading = true
            return true
        }
        var outcome = leads ? Job.Outcome.lead : await job.wait()
        while case .lead = outcome {
            // Not in the caller's task: GRDB stops a cancelled task's statements, and one caller
            // giving up (a client timing out, a shutdown) must not fail the writes of the others.
            await Task { await self.commitGroup() }.value
            outcome = await job.wait()
        }
        guard case .done(let result) = outcome else { preconditionFailure("the loop ends on a result") }
        return try result.get() as! Value
    }

    /// Commits one group from the front of the queue, answers its callers, and passes the lead on.
    private func commitGroup() async {
        let group = state.withLock { state in
            let group = Array(state.queue.prefix(Self.commandsPerGroupMax))
            state.queue.removeFirst(group.count)
            return group
        }
        var results: [Result<any Sendable, any Error>] = []
        do {
            results = try await database.writeWithoutTransaction { db in
                var results: [Result<any Sendable, any Error>] = []
                try db.inTransaction(.immediate) {
                    for job in group {
                        do {
                            var value: (any Sendable)?
                            try db.inSavepoint {
                                value = try job.command(db)
                                return .commit
                            }
                            results.append(.success(value!))
                        } catch {
                            results.append(.failure(error))
                        }
                    }
                    return .commit
                }
                return results
            }
            commits.add(1, ordering: .relaxed)
        } catch {
            results = group.map { _ in .failure(error) }
        }
        let next = state.withLock { state -> Job? in
            if let first = state.queue.first { return first }
            state.leading = false
            return nil
        }
        for (job, result) in zip(group, results) { job.finish(.done(result)) }
        next?.finish(.lead)
    }

    final class Job: Sendable {
        enum Outcome: Sendable {
            case done(Result<any Sendable, any Error>)
            /// The caller is to commit the next group.
            case lead
        }

        enum State {
            case pending
            case waiting(CheckedContinuation<Outcome, Never>)
            case finished(Outcome)
        }

        let command: @Sendable (Database) throws -> any Sendable
        private let state = Mutex(State.pending)

        init(_ command: @escaping @Sendable (Database) throws -> any Sendable) { self.command = command }

        func wait() async -> Outcome {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Outcome? in
                    if case .finished(let outcome) = state {
                        state = .pending
                        return outcome
                    }
                    state = .waiting(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }

        func finish(_ outcome: Outcome) {
            let waiting = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
                if case .waiting(let continuation) = state {
                    state = .pending
                    return continuation
                }
                state = .finished(outcome)
                return nil
            }
            waiting?.resume(returning: outcome)
        }
    }
}
