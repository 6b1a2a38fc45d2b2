// KeysModel on a running gateway: spend from the budget ledger (rebuilt from the log written
// through gh::Store), limits applied to the gateway at once, key lifecycle and snippets.
#include "budget/budgetledger.h"
#include "core/keyhash.h"
#include "keysmodel.h"
#include "routing/registry.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestKeysModel : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;
    qint64 m_recent = 0;

    static QVariant role(const KeysModel &m, int row, int role) { return m.data(m.index(row), role); }

private Q_SLOTS:
    void initTestCase()
    {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const qint64 midnight = QDateTime(QDate::currentDate(), QTime(0, 0)).toMSecsSinceEpoch();
        m_recent = std::max(midnight, now - 1000);
        const qint64 longAgo = now - 40ll * 24 * 3600 * 1000; // before this month and this week
        KeyLimits limits;
        limits.dayUsd = 1.25;
        limits.totalUsd = 100;
        QVERIFY(m_fx.prepare({key(1, QStringLiteral("scripts"), limits), key(2, QStringLiteral("cursor"))},
            {record("req_a", m_recent, 1, "scripts", "openai/gpt-4.1", "openai", 0.40),
                record("req_b", m_recent, 1, "scripts", "openai/gpt-4.1", "openai", 0.60),
                record("req_c", m_recent, 1, "scripts", "openai/gpt-4.1", "openai", std::nullopt),
                record("req_d", longAgo, 1, "scripts", "openai/gpt-4.1", "openai", 5.00),
                record("req_e", m_recent, 2, "cursor", "openai/gpt-4.1", "openai", 0.05)}));
        QVERIFY(m_fx.start());
    }

    void figures()
    {
        KeysModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(role(m, 0, KeysModel::NameRole).toString(), QStringLiteral("scripts"));
        QCOMPARE(role(m, 0, KeysModel::KeyIdRole).toLongLong(), 1);
        QCOMPARE(role(m, 0, KeysModel::DayLimitRole).toDouble(), 1.25);
        QCOMPARE(role(m, 0, KeysModel::WeekLimitRole).toDouble(), -1.0);
        QCOMPARE(role(m, 0, KeysModel::TotalLimitRole).toDouble(), 100.0);
        QCOMPARE(role(m, 0, KeysModel::DaySpentRole).toDouble(), 1.00);
        QCOMPARE(role(m, 0, KeysModel::WeekSpentRole).toDouble(), 1.00);
        QCOMPARE(role(m, 0, KeysModel::MonthSpentRole).toDouble(), 1.00);
        QCOMPARE(role(m, 0, KeysModel::TotalSpentRole).toDouble(), 6.00);
        QCOMPARE(role(m, 0, KeysModel::DayUsageRole).toDouble(), 0.8);
        QCOMPARE(role(m, 0, KeysModel::WeekUsageRole).toDouble(), -1.0);
        QCOMPARE(role(m, 0, KeysModel::TotalUsageRole).toDouble(), 0.06);
        QCOMPARE(role(m, 0, KeysModel::SecretHintRole).toString(), QStringLiteral("…abcd"));
        QCOMPARE(role(m, 1, KeysModel::DaySpentRole).toDouble(), 0.05);
        QCOMPARE(role(m, 1, KeysModel::DayUsageRole).toDouble(), -1.0);
        QCOMPARE(m.roleNames().value(KeysModel::DayUsageRole), QByteArray("dayUsage"));
    }

    // QML creates the model first and sets its backend afterwards, maybe after a view took it:
    // the rows arrive in one reset, and a second backend is refused (the first one stays).
    void backendSetLater()
    {
        KeysModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.rowCount(), 0);
        QCOMPARE(m.backend(), nullptr);
        QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
        QSignalSpy count(&m, &KeysModel::countChanged);
        QSignalSpy backendChanged(&m, &KeysModel::backendChanged);
        m.setBackend(m_fx.backend.get());
        QCOMPARE(m.backend(), m_fx.backend.get());
        QCOMPARE(reset.size(), 1);
        QVERIFY(!count.isEmpty());
        QCOMPARE(backendChanged.size(), 1);
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(role(m, 1, KeysModel::NameRole).toString(), QStringLiteral("cursor"));

        Backend other(*m_fx.gateway);
        QTest::ignoreMessage(QtWarningMsg, "KeysModel: the backend is set once; another one is ignored");
        m.setBackend(&other);
        QCOMPARE(m.backend(), m_fx.backend.get());
        QCOMPARE(backendChanged.size(), 1);
        QCOMPARE(m.rowCount(), 2);
    }

    void limitsApplyAtOnce()
    {
        KeysModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        QVERIFY(m.setLimit(1, QStringLiteral("week"), 1.10));
        QCOMPARE(role(m, 0, KeysModel::WeekLimitRole).toDouble(), 1.10);
        QCOMPARE(role(m, 0, KeysModel::WeekUsageRole).toDouble(), 1.00 / 1.10);
        QVERIFY(!changed.isEmpty());
        // The ledger enforces it now: $0.10 is left this week (and $0.25 today).
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        auto &ledger = m_fx.gateway->context().ledger;
        QCOMPARE(*ledger.status(1, now)[int(Period::Week)].limit, fromUsd(1.10));
        auto refused = ledger.reserve(1, fromUsd(0.20), now);
        QVERIFY(std::holds_alternative<BudgetLedger::Refusal>(refused));
        QCOMPARE(std::get<BudgetLedger::Refusal>(refused).period, Period::Week);
        auto fits = ledger.reserve(1, fromUsd(0.05), now);
        QVERIFY(std::holds_alternative<BudgetLedger::Reservation>(fits));
        ledger.release(std::get<BudgetLedger::Reservation>(fits));
        // Stored, so the next start has it too.
        QCOMPARE(
            m_fx.gateway->store().keyByName(QStringLiteral("scripts"))->limits.weekUsd, std::optional<double>(1.10));
        // No limit again.
        QVERIFY(m.setLimit(1, QStringLiteral("week"), -1));
        QCOMPARE(role(m, 0, KeysModel::WeekLimitRole).toDouble(), -1.0);
        QVERIFY(!ledger.status(1, now)[int(Period::Week)].limit);
        QVERIFY(!m.setLimit(1, QStringLiteral("fortnight"), 1));
        QVERIFY(m.lastError().contains(QStringLiteral("fortnight")));
        QVERIFY(!m.setLimit(99, QStringLiteral("day"), 1));
        // The registry snapshot follows within the coalescing delay.
        QTRY_COMPARE(m_fx.gateway->context().registry.snapshot()->keysByHash.size(), 2);
    }

    // What a request that does not fit gets: stored, and in the gateway's registry.
    void budgetPolicy()
    {
        KeysModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(role(m, 0, KeysModel::OnShortBudgetRole).toString(), QStringLiteral("clamp"));
        QCOMPARE(role(m, 0, KeysModel::MinOutputTokensRole).toInt(), 1024);
        QCOMPARE(role(m, 0, KeysModel::OvershootsRole).toInt(), 0);
        QVERIFY(m.setBudgetPolicy(1, QStringLiteral("refuse"), 2048));
        QCOMPARE(role(m, 0, KeysModel::OnShortBudgetRole).toString(), QStringLiteral("refuse"));
        QCOMPARE(role(m, 0, KeysModel::MinOutputTokensRole).toInt(), 2048);
        const auto stored = m_fx.gateway->store().keyByName(QStringLiteral("scripts"));
        QVERIFY(stored);
        QCOMPARE(stored->budget.onShortBudget, gh::ShortBudget::Refuse);
        QCOMPARE(stored->budget.minOutputTokens, qint64(2048));
        QVERIFY(!m.setBudgetPolicy(1, QStringLiteral("shrink"), 2048));
        QVERIFY(!m.setBudgetPolicy(1, QStringLiteral("clamp"), 0));
        QVERIFY(m.setBudgetPolicy(1, QStringLiteral("clamp"), 1024));
        QCOMPARE(m_fx.gateway->store().keyByName(QStringLiteral("scripts"))->budget, gh::BudgetPolicy{});
    }

    // What a secret in the key's prompts does: stored, and in the gateway's registry.
    void secretScan()
    {
        KeysModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(role(m, 0, KeysModel::SecretScanRole).toString(), QStringLiteral("warn")); // the default
        QVERIFY(m.setSecretScan(1, QStringLiteral("redact")));
        QCOMPARE(role(m, 0, KeysModel::SecretScanRole).toString(), QStringLiteral("redact"));
        QCOMPARE(m_fx.gateway->store().keyByName(QStringLiteral("scripts"))->secretScan, gh::SecretScanMode::Redact);
        QTRY_VERIFY(std::any_of(m_fx.gateway->context().registry.snapshot()->keysByHash.cbegin(),
                                m_fx.gateway->context().registry.snapshot()->keysByHash.cend(),
                                [](const gh::KeyEntry &k) { return k.id == 1 && k.secretScan == gh::SecretScanMode::Redact; }));
        QVERIFY(!m.setSecretScan(1, QStringLiteral("shout")));
        QVERIFY(m.lastError().contains(QStringLiteral("shout")));
        QVERIFY(!m.setSecretScan(99, QStringLiteral("block")));
        QVERIFY(m.setSecretScan(1, QStringLiteral("warn")));
        QCOMPARE(m_fx.gateway->store().keyByName(QStringLiteral("scripts"))->secretScan, gh::SecretScanMode::Warn);
    }

    // Where a key's requests may go is recomputed when the providers change (a data policy edited on
    // the Providers page), not only when the keys reload.
    void trafficFollowsTheProviders()
    {
        KeysModel m(m_fx.backend.get());
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        Q_EMIT m_fx.backend->providersChanged();
        QVERIFY(std::any_of(changed.cbegin(), changed.cend(), [](const QList<QVariant> &args) {
            return args.at(2).value<QList<int>>().contains(KeysModel::TrafficRole);
        }));
        QVERIFY(!role(m, 0, KeysModel::TrafficRole).toString().isEmpty());
    }

    void lifecycle()
    {
        KeysModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString secret
            = m.createKey(QStringLiteral("  claude code "), QStringLiteral("anthropic/*, openai/gpt-4.1,"));
        QVERIFY(secret.startsWith(QStringLiteral("gk-")));
        QCOMPARE(m.rowCount(), 3);
        const int row = m.indexOf(3);
        QCOMPARE(row, 2);
        QCOMPARE(role(m, row, KeysModel::NameRole).toString(), QStringLiteral("claude code"));
        QCOMPARE(role(m, row, KeysModel::AllowModelsRole).toString(), QStringLiteral("anthropic/*, openai/gpt-4.1"));
        QCOMPARE(role(m, row, KeysModel::SecretHintRole).toString(), secretHint(secret));
        // Only the hash is stored, and the running gateway knows the key at once.
        const auto stored = m_fx.gateway->store().keyByName(QStringLiteral("claude code"));
        QVERIFY(stored);
        QCOMPARE(stored->secretHash, hashSecret(secret));
        const KeyEntry *entry = m_fx.gateway->context().registry.snapshot()->keyByHash(hashSecret(secret));
        QVERIFY(entry);
        QCOMPARE(entry->name, QStringLiteral("claude code"));

        QCOMPARE(m.createKey(QStringLiteral("claude code"), {}), QString());
        QVERIFY(m.lastError().contains(QStringLiteral("already exists")));
        QCOMPARE(m.createKey(QStringLiteral("   "), {}), QString());

        QVERIFY(m.rename(3, QStringLiteral("claude")));
        QCOMPARE(role(m, row, KeysModel::NameRole).toString(), QStringLiteral("claude"));
        QVERIFY(!m.rename(3, QStringLiteral("scripts")));
        QVERIFY(m.setPaused(3, true));
        QVERIFY(role(m, row, KeysModel::PausedRole).toBool());
        QVERIFY(m_fx.gateway->context().registry.snapshot()->keyByHash(hashSecret(secret))->paused);
        QVERIFY(m.revoke(3));
        QVERIFY(role(m, row, KeysModel::RevokedRole).toBool());
        QVERIFY(m_fx.gateway->context().registry.snapshot()->keyByHash(hashSecret(secret))->revoked);
        QCOMPARE(m.activeCount(), 2);
    }

    // The card's state: why the key's latest request was refused for its budget, until an answered
    // request or a limit change; allow_unpriced set from the window reaches the gateway.
    void refusalAndUnpriced()
    {
        KeysModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const int row = m.indexOf(1);
        QVERIFY(row >= 0);
        QCOMPARE(role(m, row, KeysModel::RefusalRole).toString(), QString());
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        RequestRecord refused = record(QStringLiteral("req_refused"), QDateTime::currentMSecsSinceEpoch(), 1,
            QStringLiteral("scripts"), QStringLiteral("m"), QString(), std::nullopt, 402);
        refused.error = QStringLiteral("Budget exhausted for key 'scripts': $0.01 remains");
        m_fx.gateway->events()->publish(refused);
        QCOMPARE(role(m, row, KeysModel::RefusalRole).toString(), refused.error);
        QVERIFY(!changed.isEmpty());
        RequestRecord served = record(QStringLiteral("req_served"), QDateTime::currentMSecsSinceEpoch(), 1,
            QStringLiteral("scripts"), QStringLiteral("m"), QStringLiteral("mock"), 0.001, 200);
        m_fx.gateway->events()->publish(served);
        QCOMPARE(role(m, row, KeysModel::RefusalRole).toString(), QString());
        m_fx.gateway->events()->publish(refused);
        QVERIFY(!role(m, row, KeysModel::RefusalRole).toString().isEmpty());
        const double dayLimit = role(m, row, KeysModel::DayLimitRole).toDouble();
        QVERIFY(m.setLimit(1, QStringLiteral("day"), 123.25)); // a new limit: the next request decides
        QCOMPARE(role(m, row, KeysModel::RefusalRole).toString(), QString());
        QVERIFY(m.setLimit(1, QStringLiteral("day"), dayLimit));

        QVERIFY(!role(m, row, KeysModel::AllowUnpricedRole).toBool());
        QVERIFY(m.setAllowUnpriced(1, true));
        QVERIFY(role(m, row, KeysModel::AllowUnpricedRole).toBool());
        QVERIFY(m_fx.gateway->store().keyByName(QStringLiteral("scripts"))->allowUnpriced);
        QVERIFY(m_fx.gateway->context().registry.snapshot()->keyByHash(
            m_fx.gateway->store().keyByName(QStringLiteral("scripts"))->secretHash)->allowUnpriced);
        QVERIFY(m.setAllowUnpriced(1, false));
        QVERIFY(!m.setAllowUnpriced(99, true));
        QVERIFY(!role(m, row, KeysModel::BuiltInRole).toBool());
    }

    void snippets()
    {
        KeysModel m(m_fx.backend.get());
        const QString port = QString::number(m_fx.gateway->port());
        const QString openai = m.snippet(1, QStringLiteral("openai-sdk"), QStringLiteral("gk-secret"));
        QVERIFY2(openai.contains(QStringLiteral("OPENAI_BASE_URL=\"http://127.0.0.1:%1/v1\"").arg(port)),
            qPrintable(openai));
        QVERIFY(openai.contains(QStringLiteral("OPENAI_API_KEY=\"gk-secret\"")));
        const QString claude = m.snippet(1, QStringLiteral("claude-code"), {});
        QVERIFY(claude.contains(QStringLiteral("ANTHROPIC_BASE_URL=\"http://127.0.0.1:%1\"").arg(port)));
        QVERIFY(claude.contains(QStringLiteral("ANTHROPIC_AUTH_TOKEN=\"<your scripts key>\"")));
        for (const QString &tool : m.snippetTools())
            QVERIFY2(m.snippet(1, tool, QStringLiteral("gk-x")).contains(QStringLiteral("gk-x")), qPrintable(tool));
        QVERIFY(m.snippet(1, QStringLiteral("curl"), QStringLiteral("gk-x"))
                    .contains(QStringLiteral("/v1/chat/completions")));
        // The window shows the generator `gatehouse connect` prints (app/connect, tested there).
        QVERIFY(m.snippet(1, QStringLiteral("codex"), QStringLiteral("gk-x")).contains(QStringLiteral("wire_api = \"responses\"")));
        QCOMPARE(m.snippetToolTitle(QStringLiteral("claude-code")), QStringLiteral("Claude Code"));
        QVERIFY(m.snippetTools().contains(QStringLiteral("cursor")));
        QVERIFY(m.snippet(1, QStringLiteral("emacs"), QStringLiteral("gk-x")).isEmpty());
        QVERIFY(m.snippet(42, QStringLiteral("curl"), QStringLiteral("gk-x")).isEmpty());
    }

    void spendFollowsTheGateway()
    {
        KeysModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        // What a request settles in the ledger shows within a second of its event.
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        auto &ledger = m_fx.gateway->context().ledger;
        auto reservation = std::get<BudgetLedger::Reservation>(ledger.reserve(2, fromUsd(0.10), now));
        ledger.settle(reservation, fromUsd(0.07), now);
        m_fx.gateway->events()->publish(record("req_f", now, 2, "cursor", "openai/gpt-4.1", "openai", 0.07));
        QTRY_VERIFY(!changed.isEmpty());
        QCOMPARE(role(m, 1, KeysModel::DaySpentRole).toDouble(), 0.12);
    }
};

QTEST_MAIN(TestKeysModel)
#include "tst_keysmodel.moc"
