// The guardrails' detectors and engine with a fake clock: what trips, after how many requests, what
// never trips (retries, growing conversations, steady spend), resume, and bounded memory.
#include "guardrails/guardrails.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace gh;

namespace {

constexpr qint64 kMinute = 60'000;
constexpr qint64 kStart = 1'800'000'000'000; // an arbitrary fixed epoch time

// {"model":"m","messages":[...]} from (role, content) pairs; tool results with a fresh id each.
QByteArray chat(const QList<std::pair<QString, QString>> &messages, const QByteArray &extra = {}, int idSeed = 0)
{
    QJsonArray list;
    int n = 0;
    for (const auto &[role, content] : messages) {
        if (role == QLatin1String("tool"))
            list.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                    {QStringLiteral("content"),
                                     QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                                                            {QStringLiteral("tool_use_id"), QStringLiteral("toolu_%1_%2").arg(idSeed).arg(n)},
                                                            {QStringLiteral("content"), content}}}}});
        else
            list.append(QJsonObject{{QStringLiteral("role"), role}, {QStringLiteral("content"), content}});
        ++n;
    }
    QByteArray body = "{\"model\":\"m\",\"max_tokens\":100" + extra + ",\"messages\":" + QJsonDocument(list).toJson(QJsonDocument::Compact) + "}";
    return body;
}

// An agent's task with its context (instructions, reminders): over GuardrailThresholds::minRequestBytes.
const QString kTask = QStringLiteral("Fix the failing test in tests/test_parser.py. ") + QString(1100, u'c');
const QString kFailure = QStringLiteral("FAILED tests/test_parser.py::test_roundtrip - AssertionError: assert 'a,b' == 'a;b' (1 failed, 41 passed)");

struct Rig {
    qint64 now = kStart;
    Guardrails g;
    explicit Rig(GuardrailThresholds t = {}) : g(t, [this] { return now; }) { }

    GuardrailTicket ticket(QByteArray body, const QString &session = QStringLiteral("s1"), qint64 key = 1)
    {
        GuardrailTicket t;
        t.keyId = key;
        t.keyName = QStringLiteral("agent");
        t.shape = readRequestShape(body);
        t.session = session;
        return t;
    }
    // Admits and, when admitted, settles with `status` and `cost`. Returns the refusal, if any.
    std::optional<GuardrailTrip> send(const QByteArray &body, int status = 200, NanoUsd cost = 0, const QString &session = QStringLiteral("s1"),
                                      GuardrailPolicy policy = {})
    {
        GuardrailTicket t = ticket(body, session);
        t.policy = policy;
        auto refused = g.admit(t, QStringLiteral("req"));
        if (!refused)
            g.settle(t, GuardrailOutcome{status, cost, 1000, 200, 200'000, std::nullopt}, QStringLiteral("req"));
        return refused;
    }
};

} // namespace

class TestGuardrails : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void shapeIgnoresVolatileParts()
    {
        // Same turn, different tool ids, a moved cache_control and other white space: one hash.
        QByteArray a = chat({{"user", "fix the test"}, {"assistant", "running it"}, {"tool", kFailure}}, {}, 1);
        QByteArray b = chat({{"user", "fix the test"}, {"assistant", "running it"}, {"tool", kFailure}}, {}, 2);
        b.replace("\"content\":\"fix the test\"", "\"content\" : \"fix the test\", \"cache_control\": {\"type\":\"ephemeral\"}");
        const RequestShape sa = readRequestShape(a), sb = readRequestShape(b);
        QVERIFY(sa.contentHash != 0);
        QCOMPARE(sa.contentHash, sb.contentHash);
        QCOMPARE(sa.lastTurnHash, sb.lastTurnHash);
        QCOMPARE(sa.messageCount, 3);
        // The text of the last message's strings: "user", "tool_result" and the failure.
        QCOMPARE(sa.lastTurnBytes, qint64(QByteArray("usertool_result").size() + kFailure.toUtf8().size()));
        // Other content: other hashes.
        QByteArray c = chat({{"user", "fix the test"}, {"assistant", "running it"}, {"tool", kFailure + "!"}});
        QVERIFY(readRequestShape(c).contentHash != sa.contentHash);
        QVERIFY(readRequestShape(c).lastTurnHash != sa.lastTurnHash);
        // A string with escaped quotes is one string (its end is found by the parser, not by the
        // next quote), and what follows it still counts.
        QByteArray e1 = "{\"messages\":[{\"role\":\"user\",\"content\":\"say \\\"a\\\" then\"},{\"role\":\"user\",\"content\":\"b\"}]}";
        QByteArray e2 = e1;
        e2.replace("\"b\"", "\"c\"");
        QVERIFY(readRequestShape(e1).contentHash != readRequestShape(e2).contentHash);
        QCOMPARE(readRequestShape(e1).messageCount, 2);
        // The system prompt is not part of it (dates, cwd, git status change under a loop).
        QByteArray s1 = R"({"system":"today is Monday","messages":[{"role":"user","content":"go"}]})";
        QByteArray s2 = R"({"system":"today is Tuesday","messages":[{"role":"user","content":"go"}]})";
        QCOMPARE(readRequestShape(s1).contentHash, readRequestShape(s2).contentHash);
    }

    void shapeSessionsAndBadBodies()
    {
        QByteArray anthropic = R"({"metadata":{"user_id":"user_abc_session_123"},"messages":[{"role":"user","content":"hi"}]})";
        const RequestShape a = readRequestShape(anthropic);
        QVERIFY(a.sessionHint.startsWith(QLatin1String("metadata.user_id:")));
        QVERIFY(!a.sessionHint.contains(QLatin1String("abc"))); // hashed, never the value itself
        QByteArray openai = R"({"user":"someone@example.com","metadata":{"session_id":"run-7"},"messages":[{"role":"user","content":"hi"}]})";
        QVERIFY(readRequestShape(openai).sessionHint.startsWith(QLatin1String("metadata.session_id:")));
        QByteArray user = R"({"user":"someone@example.com","messages":[{"role":"user","content":"hi"}]})";
        QVERIFY(readRequestShape(user).sessionHint.startsWith(QLatin1String("user:")));
        QVERIFY(!readRequestShape(user).sessionHint.contains(QLatin1String("example")));
        QByteArray responses = R"({"input":"hello there"})";
        QCOMPARE(readRequestShape(responses).messageCount, 1);
        for (QByteArray bad : {QByteArray("{"), QByteArray("[]"), QByteArray(""), QByteArray(R"({"messages":5})"),
                               QByteArray(R"({"messages":[{"role":"user","content":"x"}, tru]})")}) {
            const RequestShape s = readRequestShape(bad);
            QCOMPARE(s.contentHash, quint64(0));
        }
        QCOMPARE(Guardrails::sessionFor(QStringLiteral("uuid-1"), a, 42), QStringLiteral("uuid-1"));
        QCOMPARE(Guardrails::sessionFor({}, a, 42), a.sessionHint);
        QCOMPARE(Guardrails::sessionFor({}, RequestShape{}, 42), QStringLiteral("prefix:000000000000002a"));
        QVERIFY(Guardrails::sessionFor({}, RequestShape{}, 0).isEmpty());
    }

    void sameRequestPausesOnTheFifthSend()
    {
        Rig r;
        const QByteArray turn = chat({{"user", kTask}, {"assistant", "ok"}, {"tool", kFailure}});
        for (int i = 0; i < 4; ++i) {
            QVERIFY(!r.send(turn));
            r.now += 300; // every few hundred ms
        }
        const auto trip = r.send(turn);
        QVERIFY(trip);
        QCOMPARE(trip->detector, Detector::Repetition);
        QCOMPARE(trip->action, GuardMode::Pause);
        QCOMPARE(trip->session, QStringLiteral("s1"));
        QCOMPARE(trip->evidence.value(QLatin1String("answered_before")).toInt(), 4);
        QVERIFY2(trip->summary.contains(QLatin1String("answered 4 times")), qPrintable(trip->summary));
        QVERIFY2(trip->summary.contains(QLatin1String("(3 messages,")), qPrintable(trip->summary));
        QVERIFY2(!trip->summary.contains(QLatin1String(" 1 minutes")), qPrintable(trip->summary));
        // Paused: every further request of the session is refused, other sessions are not.
        QVERIFY(r.send(chat({{"user", "something else"}})));
        QVERIFY(!r.send(chat({{"user", "something else"}}), 200, 0, QStringLiteral("s2")));
        QCOMPARE(r.g.trips(1).size(), 1);
        QVERIFY(r.g.trips(1).first().active);
        // Resumed: the session works again, counting from zero.
        QCOMPARE(r.g.resume(1), 1);
        QVERIFY(!r.g.trips(1).first().active);
        for (int i = 0; i < 4; ++i)
            QVERIFY(!r.send(turn));
        QVERIFY(r.send(turn));
    }

    void sameRequestAcrossSessionsPausesTheKey()
    {
        Rig r;
        const QByteArray turn = chat({{"user", kTask}});
        for (int i = 0; i < 4; ++i)
            QVERIFY(!r.send(turn, 200, 0, QStringLiteral("run-%1").arg(i)));
        const auto trip = r.send(turn, 200, 0, QStringLiteral("run-9"));
        QVERIFY(trip);
        QVERIFY(trip->session.isEmpty()); // the whole key
        QVERIFY(r.send(chat({{"user", "other"}}), 200, 0, QStringLiteral("fresh")));
        // Answered 4 times in one session, then sent from a new one (a script starting the same
        // agent run over and over): the key too.
        Rig q;
        for (int i = 0; i < 4; ++i)
            QVERIFY(!q.send(turn, 200, 0, QStringLiteral("first")));
        const auto again = q.send(turn, 200, 0, QStringLiteral("second"));
        QVERIFY(again);
        QVERIFY(again->session.isEmpty());
    }

    void retriesAfterErrorsNeverTrip()
    {
        Rig r;
        const QByteArray turn = chat({{"user", kTask}, {"assistant", "reading"}, {"tool", kFailure}});
        // A 429 retried 10 times (Claude Code's default), then answered, 3 times over.
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < 10; ++i) {
                QVERIFY(!r.send(turn, 429));
                r.now += 2'000;
            }
            QVERIFY(!r.send(turn, 200));
        }
    }

    void shortPromptsAreNotJudged()
    {
        // A health check or a benchmark posting the same short prompt: cheap, left to velocity.
        Rig r;
        const QByteArray ping = chat({{"user", "Say hi."}});
        for (int i = 0; i < 50; ++i)
            QVERIFY(!r.send(ping));
        QVERIFY(r.g.trips(1).isEmpty());
    }

    void alertModeLetsThroughAndLogsOnce()
    {
        Rig r;
        GuardrailPolicy alert;
        alert.repetition = GuardMode::Alert;
        const QByteArray turn = chat({{"user", kTask + "again"}});
        for (int i = 0; i < 20; ++i)
            QVERIFY(!r.send(turn, 200, 0, QStringLiteral("s1"), alert));
        QCOMPARE(r.g.trips(1).size(), 1); // one alert per cooldown
        QVERIFY(!r.g.trips(1).first().active);
        GuardrailPolicy off;
        off.repetition = GuardMode::Off;
        Rig quiet;
        for (int i = 0; i < 20; ++i)
            QVERIFY(!quiet.send(turn, 200, 0, QStringLiteral("s1"), off));
        QVERIFY(quiet.g.trips(1).isEmpty());
    }

    void sameResultInAGrowingConversation()
    {
        Rig r;
        QList<std::pair<QString, QString>> conversation{{"user", "make the test pass"}};
        int trippedAt = -1;
        for (int turn = 0; turn < 10 && trippedAt < 0; ++turn) {
            conversation.append({"assistant", QStringLiteral("attempt %1: edit parser.py").arg(turn)});
            conversation.append({"tool", kFailure});
            const QByteArray body = chat(conversation, {}, turn);
            // Each turn fails once (a 503) and is resent: the resend does not count again.
            if (r.send(body, 503)) {
                trippedAt = turn;
                break;
            }
            QVERIFY(!r.send(body));
            r.now += 5'000;
        }
        QCOMPARE(trippedAt, 4); // the fifth time the same failure came back
        QCOMPARE(r.g.trips(1).first().evidence.value(QLatin1String("kind")).toString(), QStringLiteral("same_result"));
    }

    void normalSessionNeverTrips()
    {
        // A long growing conversation with many distinct tool calls and results, short identical
        // acknowledgements among them, a 429 retry and a re-read file: nothing trips.
        Rig r;
        QList<std::pair<QString, QString>> conversation{{"user", "refactor the parser and keep the tests green"}};
        for (int turn = 0; turn < 200; ++turn) {
            conversation.append({"assistant", QStringLiteral("step %1").arg(turn)});
            QString result = turn % 3 == 0 ? QStringLiteral("ok")
                                           : QStringLiteral("output of command %1: %2").arg(turn).arg(QString(80, QChar(u'a' + turn % 26)));
            if (turn % 50 == 7)
                result = QStringLiteral("contents of parser.py: ") + QString(200, u'p'); // re-read now and then
            conversation.append({"tool", result});
            const QByteArray body = chat(conversation, {}, turn);
            if (turn % 40 == 5)
                QVERIFY(!r.send(body, 429));
            QVERIFY2(!r.send(body, 200, 2'000'000), qPrintable(QString::number(turn)));
            r.now += 3'000;
        }
        QVERIFY(r.g.trips(1).isEmpty());
    }

    void velocityWithAFakeClock()
    {
        Rig r;
        GuardrailPolicy pause;
        pause.velocity = GuardMode::Pause;
        const auto request = [&](int i) { return chat({{"user", QStringLiteral("distinct %1").arg(i)}}); };
        int i = 0;
        // 30 minutes at $0.05 a minute: the baseline is $0.50 per 10 minutes.
        for (int m = 0; m < 30; ++m, r.now += kMinute)
            QVERIFY(!r.send(request(i++), 200, kNanoPerUsd / 20, QStringLiteral("s1"), pause));
        QVERIFY(r.g.trips(1).isEmpty());
        // Then $0.60 a minute: above 5 x $0.50 once the window holds more than $2.50.
        int trippedAfter = -1;
        for (int m = 0; m < 10 && trippedAfter < 0; ++m, r.now += kMinute) {
            if (r.send(request(i++), 200, kNanoPerUsd * 6 / 10, QStringLiteral("s1"), pause))
                trippedAfter = m;
            else if (!r.g.trips(1).isEmpty())
                trippedAfter = m; // tripped by this request: the next one is refused
        }
        QVERIFY(trippedAfter >= 0);
        const GuardrailTrip trip = r.g.trips(1).first();
        QCOMPARE(trip.detector, Detector::Velocity);
        QVERIFY(trip.session.isEmpty() || trip.session == QLatin1String("s1"));
        QVERIFY(trip.evidence.value(QLatin1String("recent_usd")).toDouble() > 2.5);
        QCOMPARE(trip.evidence.value(QLatin1String("baseline_usd")).toDouble(), 0.5);
        QVERIFY2(trip.summary.contains(QLatin1String("$0.5000")), qPrintable(trip.summary));
        // Paused: refused. Resumed: velocity is not judged for one window.
        QVERIFY(r.send(request(i++), 200, 1, QStringLiteral("s1"), pause));
        QVERIFY(r.g.resume(1) >= 1);
        QVERIFY(!r.send(request(i++), 200, kNanoPerUsd, QStringLiteral("s1"), pause));
    }

    void velocityNeedsBaselineAndFloor()
    {
        GuardrailThresholds t;
        SpendMeter m(60);
        qint64 now = kStart;
        // No history: no baseline, however high the spend.
        m.add(now, 50 * kNanoPerUsd);
        QVERIFY(!judgeVelocity(m, now, t).tripped);
        // Steady spend never trips.
        SpendMeter steady(60);
        for (int i = 0; i < 60; ++i, now += kMinute) {
            steady.add(now, kNanoPerUsd / 2);
            QVERIFY(!judgeVelocity(steady, now, t).tripped);
        }
        // Ten times the baseline but under the floor ($2 per 10 min): no trip.
        SpendMeter cheap(60);
        now = kStart;
        for (int i = 0; i < 30; ++i, now += kMinute)
            cheap.add(now, kNanoPerUsd / 1000);
        for (int i = 0; i < 10; ++i, now += kMinute)
            cheap.add(now, kNanoPerUsd / 100);
        const VelocityVerdict v = judgeVelocity(cheap, now - kMinute, t);
        QVERIFY(v.baseline);
        QVERIFY(v.recent > 5 * *v.baseline);
        QVERIFY(!v.tripped);
        // Old buckets are reused, not summed: after an idle hour the meter is empty.
        QCOMPARE(cheap.recent(now + 2 * 60 * kMinute, 10), NanoUsd(0));
    }

    void projectedOverrun()
    {
        GuardrailThresholds t;
        // $3 per 10 min with $10 left: 33 minutes. With $30 left: 100 minutes.
        const ProjectionVerdict soon = judgeProjection(3 * kNanoPerUsd, 10 * kNanoPerUsd, t);
        QVERIFY(soon.tripped);
        QCOMPARE(soon.minutesLeft, qint64(33));
        QVERIFY(!judgeProjection(3 * kNanoPerUsd, 30 * kNanoPerUsd, t).tripped);
        QVERIFY(!judgeProjection(kNanoPerUsd / 10, kNanoPerUsd / 10, t).tripped); // below the floor
        QVERIFY(!judgeProjection(3 * kNanoPerUsd, 0, t).tripped);                 // the budget refuses already

        Rig r;
        GuardrailTicket tk = r.ticket(chat({{"user", "x"}}));
        QVERIFY(!r.g.admit(tk, QStringLiteral("a")));
        r.g.settle(tk, GuardrailOutcome{200, 3 * kNanoPerUsd, 10, 10, 0, 5 * kNanoPerUsd}, QStringLiteral("a"));
        QCOMPARE(r.g.trips(1).size(), 1);
        QCOMPARE(r.g.trips(1).first().evidence.value(QLatin1String("kind")).toString(), QStringLiteral("projected_overrun"));
        QVERIFY(!r.g.trips(1).first().active); // velocity alerts by default
    }

    void tokenBlowup()
    {
        Rig r;
        const qint64 window = 200'000;
        for (int turn = 0; turn < 3; ++turn) {
            GuardrailTicket tk = r.ticket(chat({{"user", QStringLiteral("retrieve %1").arg(turn)}}));
            QVERIFY(!r.g.admit(tk, QStringLiteral("b")));
            // A real answer breaks the streak.
            const qint64 output = turn == 2 ? 2'000 : 20;
            r.g.settle(tk, GuardrailOutcome{200, 0, 150'000, output, window, std::nullopt}, QStringLiteral("b"));
        }
        QVERIFY(r.g.trips(1).isEmpty());
        for (int turn = 0; turn < 3; ++turn) {
            GuardrailTicket tk = r.ticket(chat({{"user", QStringLiteral("again %1").arg(turn)}}));
            QVERIFY(!r.g.admit(tk, QStringLiteral("c")));
            r.g.settle(tk, GuardrailOutcome{200, 0, 130'000 + turn * 10'000, 12, window, std::nullopt}, QStringLiteral("c"));
        }
        QCOMPARE(r.g.trips(1).size(), 1);
        const GuardrailTrip trip = r.g.trips(1).first();
        QCOMPARE(trip.detector, Detector::Blowup);
        QCOMPARE(trip.evidence.value(QLatin1String("prompt_tokens")).toInteger(), 150'000);
        QVERIFY2(trip.summary.contains(QLatin1String("200000-token")), qPrintable(trip.summary));
        // Unknown context window: never judged.
        BlowupDetector d;
        GuardrailThresholds t;
        for (int i = 0; i < 10; ++i)
            QCOMPARE(d.observe(1'000'000, 1, 0, t), 0);
    }

    void memoryIsBounded()
    {
        GuardrailThresholds t;
        t.maxSessions = 100;
        t.maxHashesPerKey = 50;
        Rig r(t);
        for (int i = 0; i < 5'000; ++i) {
            QVERIFY(!r.send(chat({{"user", QStringLiteral("task %1").arg(i)}}), 200, 0, QStringLiteral("s%1").arg(i)));
            r.now += 10;
            QVERIFY(r.g.sessionCount() <= 100);
        }
        // Still judging: a loop after all that is caught.
        const QByteArray loop = chat({{"user", kTask + "loop"}});
        for (int i = 0; i < 4; ++i)
            QVERIFY(!r.send(loop));
        QVERIFY(r.send(loop));
    }

    void listenerAndRestore()
    {
        // Every trip and every lifted pause is told to the listener (the gateway persists them);
        // a new engine restored from what was told refuses the paused session again.
        QList<GuardrailTrip> told;
        QList<qint64> ended;
        QString endedBy;
        const QByteArray turn = chat({{"user", kTask}, {"assistant", "ok"}, {"tool", kFailure}});
        {
            Rig r;
            r.g.setListener({[&](const GuardrailTrip &t) { told.append(t); },
                             [&](const QList<qint64> &ids, qint64, const QString &by) { ended += ids; endedBy = by; }});
            for (int i = 0; i < 4; ++i)
                QVERIFY(!r.send(turn, 200, kNanoPerUsd / 10));
            QVERIFY(r.send(turn));
            QCOMPARE(told.size(), 1);
            QVERIFY(told.first().active);
            QCOMPARE(told.first().costSoFar, 4 * (kNanoPerUsd / 10)); // the session's spend before the trip
            QVERIFY(!told.first().evidence.value(QLatin1String("recent_request_hashes")).toArray().isEmpty());
            QVERIFY(ended.isEmpty());
        }
        {
            Rig r;
            r.g.setListener({{}, [&](const QList<qint64> &ids, qint64, const QString &by) { ended += ids; endedBy = by; }});
            r.g.restore(told, 7);
            QCOMPARE(r.g.activePauses(), 1);
            QVERIFY(r.send(chat({{"user", "anything"}}))); // s1 is still paused
            QVERIFY(!r.send(chat({{"user", "anything"}}), 200, 0, QStringLiteral("s2")));
            QCOMPARE(r.g.trips(1).size(), 1);
            QCOMPARE(r.g.resume(1, QStringLiteral("s1"), QStringLiteral("window")), 1);
            QCOMPARE(ended, QList<qint64>{told.first().id});
            QCOMPARE(endedBy, QStringLiteral("window"));
            QCOMPARE(r.g.activePauses(), 0);
            QCOMPARE(r.g.trips(1).first().endedBy, QStringLiteral("window"));
            // New trips get ids above the restored ones.
            for (int i = 0; i < 4; ++i)
                QVERIFY(!r.send(turn));
            const auto again = r.send(turn);
            QVERIFY(again);
            QVERIFY(again->id >= 7);
        }
    }

    void thresholdsJsonAndSetter()
    {
        GuardrailThresholds t;
        QString why;
        QVERIFY(GuardrailThresholds::fromJson(QJsonObject{{QStringLiteral("repeat_count"), 3},
                                                          {QStringLiteral("repeat_window_minutes"), 2},
                                                          {QStringLiteral("velocity_floor_usd"), 0.25}},
                                              &t, &why));
        QCOMPARE(t.repeatCount, 3);
        QCOMPARE(t.repeatWindowMs, qint64(120'000));
        QCOMPARE(t.velocityFloor, kNanoPerUsd / 4);
        QCOMPARE(t.blowupTurns, GuardrailThresholds{}.blowupTurns); // left out: the default
        GuardrailThresholds back;
        QVERIFY(GuardrailThresholds::fromJson(t.toJson(), &back, &why));
        QCOMPARE(back, t);
        const GuardrailThresholds before = t;
        QVERIFY(!GuardrailThresholds::fromJson(QJsonObject{{QStringLiteral("repeat_count"), 1}}, &t, &why));
        QCOMPARE(why, QStringLiteral("'repeat_count' must be an integer from 2 to 1000"));
        QVERIFY(!GuardrailThresholds::fromJson(QJsonObject{{QStringLiteral("blowup_fraction"), QStringLiteral("0.5")}}, &t, &why));
        QVERIFY(why.contains(QLatin1String("blowup_fraction")));
        QVERIFY(!GuardrailThresholds::fromJson(QJsonObject{{QStringLiteral("repeat_window_minutes"), 2.5}}, &t, &why));
        QVERIFY(!GuardrailThresholds::fromJson(QJsonObject{{QStringLiteral("loops"), 2}}, &t, &why));
        QVERIFY(why.startsWith(QLatin1String("unknown member 'loops'")));
        QCOMPARE(t, before); // a failed parse changes nothing

        // Set on a running engine: a loop trips on its third send.
        Rig r;
        GuardrailThresholds three;
        three.repeatCount = 3;
        r.g.setThresholds(three);
        const QByteArray turn = chat({{"user", kTask}});
        QVERIFY(!r.send(turn));
        QVERIFY(!r.send(turn));
        QVERIFY(r.send(turn));
    }

    void policyJson()
    {
        GuardrailPolicy p;
        QString why;
        QVERIFY(GuardrailPolicy::fromJson(QJsonObject{{QStringLiteral("velocity"), QStringLiteral("pause")}}, &p, &why));
        QCOMPARE(p.velocity, GuardMode::Pause);
        QCOMPARE(p.repetition, GuardMode::Pause); // default kept
        QCOMPARE(p.blowup, GuardMode::Alert);
        GuardrailPolicy q;
        QVERIFY(GuardrailPolicy::fromJson(p.toJson(), &q, &why));
        QCOMPARE(q, p);
        QVERIFY(!GuardrailPolicy::fromJson(QJsonObject{{QStringLiteral("velocity"), QStringLiteral("stop")}}, &p, &why));
        QVERIFY(why.contains(QLatin1String("velocity")));
        QVERIFY(!GuardrailPolicy::fromJson(QJsonObject{{QStringLiteral("loops"), QStringLiteral("off")}}, &p, &why));
        QVERIFY(why.contains(QLatin1String("loops")));
        QVERIFY(!GuardrailPolicy::fromJson(QJsonObject{{QStringLiteral("blowup"), 1}}, &p, &why));
    }
};

QTEST_GUILESS_MAIN(TestGuardrails)
#include "tst_guardrails.moc"
