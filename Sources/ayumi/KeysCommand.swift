import ArgumentParser
import Foundation

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "The keys that sign redemption codes.",
        discussion: """
            Codes are signed with Ed25519; each code names its key. Rotating adds a new key: codes are signed \
            with it from then on (a running server loads it within 10 s), and codes signed with an older key \
            stay valid until they expire (minutes). Keys are kept in the database, never printed.
            """,
        subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a new signing key and sign new codes with it; prints its number.")

        @OptionGroup var data: DataOptions

        func run() async throws {
            try await reportingFailures {
                let key = try await data.openExisting(readOnly: false).redemptions.rotateSigningKey()
                print("signing key \(key.id) in use from \(key.createdAt.formatted(.iso8601))")
            }
        }
    }
}
