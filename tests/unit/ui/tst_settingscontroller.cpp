// SettingsController: moving the listener, settings kept in the data folder's store, currency.
#include "format.h"
#include "settingscontroller.h"
#include "state/configapply.h"
#include "telemetry/telemetry.h"
#include "uitestfixture.h"
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {
bool accepts(quint16 port)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    return s.waitForConnected(2000);
}
quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}
} // namespace

class TestSettingsController : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({}, {}));
        QVERIFY(m_fx.start());
    }

    void movesTheListener()
    {
        SettingsController s(m_fx.backend.get());
        const quint16 old = m_fx.gateway->port();
        QCOMPARE(s.port(), int(old));
        QVERIFY(accepts(old));
        QSignalSpy moved(&s, &SettingsController::listeningPortChanged);
        const quint16 next = freePort();
        s.setPort(next);
        QVERIFY2(s.applyPort(), qPrintable(s.portError()));
        QCOMPARE(moved.size(), 1);
        QCOMPARE(s.listeningPort(), int(next));
        QCOMPARE(m_fx.gateway->port(), next);
        QVERIFY(accepts(next));
        QTRY_VERIFY(!accepts(old));
        QCOMPARE(loadGatewaySettings(m_fx.gateway->store()).port, std::optional<int>(next));

        // A port in use: the gateway stays where it is and says why.
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        s.setPort(squatter.serverPort());
        QVERIFY(!s.applyPort());
        QVERIFY(!s.portError().isEmpty());
        QCOMPARE(m_fx.gateway->port(), next);
        QVERIFY(accepts(next));
        s.setPort(80);
        QVERIFY(!s.applyPort());
        QVERIFY(s.portError().contains("1024"));
    }

    // Telemetry from the Settings page: validated as the config is, stored, and applied to the
    // running gateway at once; the scrape token is returned once and kept only as a hash.
    void telemetry()
    {
        SettingsController s(m_fx.backend.get());
        QVERIFY(!s.metricsEnabled());
        QCOMPARE(s.otlpEndpoint(), QString());
        QSignalSpy changed(&s, &SettingsController::telemetryChanged);

        const QString token = s.newMetricsToken();
        QVERIFY(token.size() >= 16);
        QVERIFY(s.metricsEnabled());
        const MetricsSettings metrics = m_fx.gateway->context().settings()->metrics;
        QCOMPARE(scrapeAccess(metrics, QByteArray("Bearer ") + token.toUtf8()), ScrapeAccess::Allowed);
        QCOMPARE(scrapeAccess(m_fx.gateway->context().settings()->metrics, "Bearer wrong-token-0000000000"), ScrapeAccess::Unauthorized);
        QVERIFY(!m_fx.gateway->store().setting(QStringLiteral("gateway")).contains(token));

        QVERIFY(!s.applyOtlp(QStringLiteral("ftp://collector/v1/traces"), {}));
        QVERIFY2(s.telemetryError().startsWith(QStringLiteral("otlp.endpoint: ")), qPrintable(s.telemetryError()));
        QVERIFY(!s.applyOtlp(QStringLiteral("http://127.0.0.1:4318/v1/traces"), QStringLiteral("no-equals-sign")));
        QVERIFY(!s.applyOtlp(QStringLiteral("http://127.0.0.1:4318/v1/traces"), QStringLiteral("bad name=1")));
        QVERIFY(!m_fx.gateway->context().telemetry->exporter().enabled());

        QVERIFY2(s.applyOtlp(QStringLiteral(" http://127.0.0.1:4318/v1/traces "), QStringLiteral("x-team=platform, authorization=$OTLP_AUTH")),
                 qPrintable(s.telemetryError()));
        QCOMPARE(s.telemetryError(), QString());
        QCOMPARE(s.otlpEndpoint(), QStringLiteral("http://127.0.0.1:4318/v1/traces"));
        QCOMPARE(s.otlpHeaders(), QStringLiteral("authorization=$OTLP_AUTH, x-team=platform"));
        QVERIFY(m_fx.gateway->context().telemetry->exporter().enabled());
        QVERIFY(s.metricsEnabled()); // the other setting is kept

        QVERIFY(s.applyOtlp(QString(), QString()));
        QVERIFY(!m_fx.gateway->context().telemetry->exporter().enabled());
        s.disableMetrics();
        QVERIFY(!s.metricsEnabled());
        QCOMPARE(scrapeAccess(m_fx.gateway->context().settings()->metrics, QByteArray("Bearer ") + token.toUtf8()), ScrapeAccess::Off);
        QVERIFY(changed.size() >= 5);
    }

    void storedSettings()
    {
        {
            SettingsController s(m_fx.backend.get());
            QVERIFY(!s.startMinimized());
            QSignalSpy spy(&s, &SettingsController::startMinimizedChanged);
            s.setStartMinimized(true);
            QCOMPARE(spy.size(), 1);
            QVERIFY(s.startMinimized());
            QVERIFY(!s.closeToTrayNoticeShown());
            s.setCloseToTrayNoticeShown(true);
            QVERIFY(s.notificationsEnabled());
            s.setNotificationsEnabled(false);
        }
        // In the store of the data folder: another backend on the same gateway reads them back.
        QCOMPARE(m_fx.gateway->store().setting("ui.startMinimized"), QStringLiteral("true"));
        m_fx.backend = std::make_unique<Backend>(*m_fx.gateway);
        SettingsController s(m_fx.backend.get());
        QVERIFY(s.startMinimized());
        QVERIFY(s.closeToTrayNoticeShown());
        QVERIFY(!s.notificationsEnabled());
        QCOMPARE(s.dataDir(), m_fx.dataDir());
    }

    void currency()
    {
        SettingsController s(m_fx.backend.get());
        QCOMPARE(s.currency(), QStringLiteral("USD"));
        s.setCurrencyRate(0.5);
        s.setCurrency(QStringLiteral("EUR"));
        QCOMPARE(s.currency(), QStringLiteral("EUR"));
        QCOMPARE(Format::instance()->usd(10), QStringLiteral("€5.00"));
        s.setCurrency(QStringLiteral("JPY")); // not offered: ignored
        QCOMPARE(s.currency(), QStringLiteral("EUR"));
        s.setCurrencyRate(-1);
        QCOMPARE(s.currencyRate(), 0.5);
        s.setCurrency(QStringLiteral("USD"));
        QCOMPARE(Format::instance()->usd(10), QStringLiteral("$10.00"));
        SettingsController::applyCurrency(*m_fx.backend);
        QCOMPARE(Format::instance()->currency(), QStringLiteral("USD"));
    }

    // Whoever reacts to currencyChanged (the Settings combo, every money label) reads the new
    // choice, not the previous one: the combo showed "USD" after choosing EUR and vice versa.
    void currencyNotifiesWithTheNewValue()
    {
        SettingsController s(m_fx.backend.get());
        s.setCurrency(QStringLiteral("USD"));
        QStringList seenBySettings;
        QStringList seenByFormat;
        connect(&s, &SettingsController::currencyChanged, this, [&] { seenBySettings << s.currency(); });
        connect(Format::instance(), &Format::currencyChanged, this,
            [&] { seenByFormat << Format::instance()->usd(1); });
        s.setCurrencyRate(0.5);
        s.setCurrency(QStringLiteral("EUR"));
        QVERIFY(!seenBySettings.isEmpty());
        for (const QString &c : std::as_const(seenBySettings))
            QCOMPARE(c, QStringLiteral("EUR"));
        QCOMPARE(seenByFormat.last(), QStringLiteral("€0.50"));
        seenBySettings.clear();
        s.setCurrency(QStringLiteral("USD"));
        QVERIFY(!seenBySettings.isEmpty());
        for (const QString &c : std::as_const(seenBySettings))
            QCOMPARE(c, QStringLiteral("USD"));
        QCOMPARE(seenByFormat.last(), QStringLiteral("$1.00"));
    }
};

QTEST_MAIN(TestSettingsController)
#include "tst_settingscontroller.moc"
