import Foundation

/// The outside world a use case may consult: the clock and randomness. Wired once at bootstrap
/// (`.live`), fixed in tests, so every result can be replayed.
public struct AyumiEnvironment: Sendable {
    public var now: @Sendable () -> Date
    public var randomBytes: @Sendable (Int) -> [UInt8]

    public init(now: @escaping @Sendable () -> Date, randomBytes: @escaping @Sendable (Int) -> [UInt8]) {
        self.now = now
        self.randomBytes = randomBytes
    }

    public static let live = AyumiEnvironment(
        now: { Date() },
        randomBytes: { count in
            var generator = SystemRandomNumberGenerator()
            return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        })
}
