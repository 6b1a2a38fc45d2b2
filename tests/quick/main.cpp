// Runs tests/quick/tst_*.qml with the Gatehouse module importable (qrc:/qt/qml/Gatehouse).
#include <QQmlEngine>
#include <QtQuickTest>

class Setup : public QObject
{
    Q_OBJECT
public Q_SLOTS:
    void qmlEngineAvailable(QQmlEngine *engine) { engine->addImportPath(QStringLiteral("qrc:/qt/qml")); }
};

QUICK_TEST_MAIN_WITH_SETUP(gatehouse_quick, Setup)
#include "main.moc"
