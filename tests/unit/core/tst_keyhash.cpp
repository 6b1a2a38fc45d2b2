#include "core/keyhash.h"
#include <QTest>

class TestKeyHash : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void hashIsSha256()
    {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        QCOMPARE(gh::hashSecret(QStringView(u"abc")).toHex(),
                 QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(gh::hashSecret(QStringView(u"gk-local-example")), gh::hashSecret(QByteArrayView("gk-local-example")));
        QVERIFY(gh::hashSecret(QStringView(u"a")) != gh::hashSecret(QStringView(u"b")));
    }
    void generatedSecretsAreUniqueAndWellFormed()
    {
        QSet<QString> seen;
        for (int i = 0; i < 1000; ++i) {
            const QString s = gh::generateSecret();
            QVERIFY(s.startsWith(QLatin1String("gk-")));
            QCOMPARE(s.size(), 3 + 43);
            for (QChar c : s.mid(3))
                QVERIFY2(c.isLetterOrNumber() || c == u'-' || c == u'_', qPrintable(s));
            QVERIFY(!seen.contains(s));
            seen.insert(s);
        }
    }
    void hint() { QCOMPARE(gh::secretHint(QStringLiteral("gk-abcdef")), QStringLiteral("…cdef")); }
};

QTEST_GUILESS_MAIN(TestKeyHash)
#include "tst_keyhash.moc"
