import Testing
import Trading

@testable import Feeds

@Suite("Feed times")
struct FeedTimeTests {
    @Test(
        "RFC 3339 times and integer milliseconds",
        arguments: [
            ("2014-11-07T08:19:27.028459Z", 1_415_348_367_028),
            ("2017-09-02T17:05:49.250000Z", 1_504_371_949_250),
            ("2017-09-02T17:05:49.25Z", 1_504_371_949_250),
            ("2017-09-02T17:05:49Z", 1_504_371_949_000),
            ("2024-02-29T23:59:59.999z", 1_709_251_199_999),
            ("2024-03-01T01:30:00+02:00", 1_709_249_400_000),
            ("2024-02-29 22:30:00-01:00", 1_709_249_400_000),
            ("1970-01-01T00:00:00Z", 0),
            ("1672515782136", 1_672_515_782_136),
        ] as [(String, Int64)])
    func valid(text: String, millis: Int64) throws {
        #expect(try FeedTime.millis(parsing: text) == millis)
    }

    @Test(
        "anything else is refused",
        arguments: [
            "", "yesterday", "2014-11-07T08:19:27", "2014-11-07T08:19:27.Z", "2014-13-07T08:19:27Z",
            "2023-02-29T00:00:00Z", "2014-11-07T24:00:00Z", "2014-11-07T08:19:27+0200", "-5", "1e12",
            "1234567890123456",
        ])
    func invalid(text: String) {
        #expect(throws: BourseError.validation("time must be ms since the epoch or an RFC 3339 time")) {
            try FeedTime.millis(parsing: text)
        }
    }
}
