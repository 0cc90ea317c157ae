import AyumiServices
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// The work a server does beside answering requests, registered where the application is built so
/// that every server runs the same jobs: the daily lot expiry, rulesets activated for a later time,
/// merchants and signing keys added beside it, memory given back when idle, and the program read
/// again on SIGHUP.
public struct BackgroundJobs: Sendable {
    /// Reads `Rules/` and `Merchants/` again and puts them in force (a broken program throws its
    /// diagnostics and changes nothing); nil for a server not started from files.
    public var reloadProgram: (@Sendable () async throws -> Void)?

    public init(reloadProgram: (@Sendable () async throws -> Void)?) {
        self.reloadProgram = reloadProgram
    }

    /// What `reloadProgram` throws when the files fail their check: the program in force stays.
    public struct ProgramRefused: Error {
        public var diagnostics: String

        public init(diagnostics: String) { self.diagnostics = diagnostics }
    }

    func services(ayumi: Ayumi, logger: Logger) -> [any Service] {
        var services: [any Service] = [IdleMemoryRelease(ayumi: ayumi), ScheduledRulesets(ayumi: ayumi, logger: logger),
                                       LotExpiry(ayumi: ayumi, logger: logger)]
        if let reloadProgram { services.append(ProgramReload(reload: reloadProgram, logger: logger)) }
        return services
    }
}

/// Puts an edited `Rules/` and `Merchants/` in force on SIGHUP, as daemons reload their
/// configuration; a broken program is refused with its diagnostics and the old one stays.
struct ProgramReload: Service {
    let reload: @Sendable () async throws -> Void
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try await reload()
            } catch let failure as BackgroundJobs.ProgramRefused {
                // Diagnostics name files, lines and keys of the program: nothing personal.
                logger.error("Program reload refused; the program in force stays", metadata: ["diagnostics": "\(failure.diagnostics)"])
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
                _ = await ayumi.health.releaseMemoryIfIdle()
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
                    try await ayumi.program.reloadIfScheduled()
                } catch {
                    logger.error("Scheduled ruleset not loaded", metadata: ["error": "\(String(reflecting: error))"])
                }
                // Merchants imported by `ayumi merchants import` take part from now on.
                do {
                    try await ayumi.merchants.reloadIfChanged()
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
