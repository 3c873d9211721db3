// Package deadline counts the legal time limits of government work and
// supervises them electronically (电子监察): civil dates, working-day
// calendars with China's official holiday schedule, time-limit rules,
// per-case clocks with pauses and extensions, and a monitor that issues
// warnings (预警), yellow cards (黄牌) and red cards (红牌) exactly once.
//
// # Dates and calendars
//
// Legal dates are civil dates ([Date]): a year, month and day with no time
// zone. An instant becomes a Date only through [DateOf] with a location,
// Asia/Shanghai ([Shanghai]) unless configured; nothing reads time.Local.
//
// A [Calendar] knows which dates are working days (工作日). China's are not
// "Monday to Friday": the State Council publishes each year which days are
// statutory holidays (法定节假日) and which Saturdays and Sundays are working
// days instead (调休上班). [China] embeds the notices for 2025
// (国办发明电〔2024〕12号) and 2026 as JSON files that name their source;
// earlier years are not embedded because their notices could not be checked
// here. An integrator adds next year's schedule, or a local adjustment (a
// regional holiday), without a new release: [ParseYears] reads calendar JSON
// strictly and validates it against the schema [CalendarSchemaID], and
// [Calendar.With] lays it over a calendar. A calendar covers whole years;
// a count that needs a day outside them is [ErrOutsideCalendar] unless the
// caller asks for an estimate (the Estimate methods, [Rule].Estimate, the
// command line's --estimate), which assumes Monday to Friday there and says
// the result is estimated. A calendar never guesses a holiday.
//
// Working days are precomputed into a running count per covered day and the
// list of working days, so adding N working days or counting them between
// two dates is O(1), allocates nothing and is safe for concurrent use.
//
// # Counting
//
// The default rules are those of 民法典 第二百零一条 to 第二百零三条 (periods):
//
//   - the day of the start event is not counted; counting begins the next
//     day (第二百零一条);
//   - a limit of N working days ends at the end of the Nth working day after
//     the start (行政许可法 第八十二条: the limits of that law count working
//     days, not statutory holidays);
//   - a limit of N natural days ends on the Nth day after the start, moved
//     to the next working day when that day is not one (第二百零三条: a last
//     day that is a statutory holiday moves to the day after the holiday);
//     the period ends at the end of that day (第二百零三条, 二十四时);
//   - paused periods, as inclusive civil dates, are not counted at all: under
//     行政许可法 第四十五条 the time of hearings, tendering and auctions,
//     testing, quarantine, appraisal and expert review is not counted in the
//     limit, and a correction request (补正, 第三十二条) stops the clock until
//     the applicant resubmits. A [Clock] pauses from the day of suspension to
//     the day of resumption, both excluded from the count.
//
// [Calendar.Due] applies them; [Calendar.Assess] gives the day-level status
// that the command line prints.
//
// # Rules, clocks and cards
//
// A [Rule] holds the legal limit (法定时限) — 20 working days under
// 行政许可法 第四十二条, extendable by 10 with the approval of the organ's
// head, which [Rule].MaxExtension caps and an [EventExtended] event carries
// with its reason and approver — and optionally the shorter promised limit
// (承诺时限) a department commits to and step limits (环节时限). Its card
// [Ladder] is configurable, because places differ: each level (warning,
// yellow, red) watches one limit with an offset, either "when at most N is
// left" ([WhenLeft]) or "once the limit plus N has passed" ([WhenPassed]).
// The default, [DefaultLadder], warns before the legal due date, shows a
// yellow card once the legal limit has passed and a red card when the case
// is still unfinished a grace period after it.
//
// A [Clock] is one case's clock, built from [Event] values (started,
// suspended, resumed, extended, finished, step events) with [Rebuild], so
// the approval engine persists events and rebuilds clocks from them. At any
// instant [Clock.Read] gives the due date, time used and left, the card level
// reached and the status: running, paused, warning, yellow, red,
// done-on-time or done-late.
//
// A [Monitor] holds many clocks in a min-heap ordered by each clock's next
// transition, so a tick costs work in proportion to the cards that change,
// not to the clocks held (a million open clocks are routine). Cards go
// through a [Store] whose RecordCard is idempotent on the card's key (clock
// and level), so each card is issued exactly once even across restarts and
// between nodes: [MemStore] here, SQLite and PostgreSQL in package
// deadline/sqlstore, all passing the deadline/storetest suite. The monitor
// reports open, warning, yellow and red cases per department.
package deadline
