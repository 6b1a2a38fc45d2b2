#pragma once
#include "backend.h"
#include <QColor>
#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The captured bodies of one request (capture/bodycapture.h, docs/capture.md) for Activity's detail
// pane: read off the UI thread when `requestId` changes, then shown as syntax-highlighted JSON (a
// stream's events one per line). `available` is false for a request that was not captured.
class CaptureView : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QString requestId READ requestId WRITE setRequestId NOTIFY requestIdChanged)
    // The palette of the highlighting (the page passes its theme's colors).
    Q_PROPERTY(QColor keyColor MEMBER m_keyColor NOTIFY paletteChanged)
    Q_PROPERTY(QColor stringColor MEMBER m_stringColor NOTIFY paletteChanged)
    Q_PROPERTY(QColor numberColor MEMBER m_numberColor NOTIFY paletteChanged)
    Q_PROPERTY(QColor literalColor MEMBER m_literalColor NOTIFY paletteChanged)
    Q_PROPERTY(QColor mutedColor MEMBER m_mutedColor NOTIFY paletteChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loaded)
    Q_PROPERTY(bool available READ available NOTIFY loaded)
    Q_PROPERTY(QString request READ request NOTIFY loaded) // raw, for Copy
    Q_PROPERTY(QString response READ response NOTIFY loaded)
    Q_PROPERTY(QString requestHtml READ requestHtml NOTIFY loaded) // highlighted rich text
    Q_PROPERTY(QString responseHtml READ responseHtml NOTIFY loaded)
    Q_PROPERTY(QString note READ note NOTIFY loaded) // what was left out, and until when it is kept
public:
    static constexpr qsizetype kMaxShownBytes = 64 * 1024; // highlighted; Copy gives the whole body

    explicit CaptureView(QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    [[nodiscard]] QString requestId() const { return m_requestId; }
    void setRequestId(const QString &id);
    [[nodiscard]] bool loading() const { return m_loading; }
    [[nodiscard]] bool available() const { return m_available; }
    [[nodiscard]] QString request() const { return m_request; }
    [[nodiscard]] QString response() const { return m_response; }
    [[nodiscard]] QString requestHtml() const;
    [[nodiscard]] QString responseHtml() const;
    [[nodiscard]] QString note() const { return m_note; }

    struct Palette {
        QColor key, string, number, literal, muted;
    };
    // JSON (any, kept in its order) indented and colored as HTML; an SSE stream's events one per
    // line with their JSON colored; anything else escaped as it is. At most kMaxShownBytes.
    [[nodiscard]] static QString highlight(const QByteArray &text, const Palette &palette);

Q_SIGNALS:
    void backendChanged();
    void requestIdChanged();
    void paletteChanged();
    void loaded();

private:
    void load();
    QPointer<Backend> m_backend;
    QString m_requestId;
    quint64 m_generation = 0;
    bool m_loading = false;
    bool m_available = false;
    QString m_request;
    QString m_response;
    QString m_note;
    QColor m_keyColor{0x1d, 0x4e, 0xd8};
    QColor m_stringColor{0x04, 0x78, 0x57};
    QColor m_numberColor{0xb4, 0x53, 0x09};
    QColor m_literalColor{0x7c, 0x3a, 0xed};
    QColor m_mutedColor{0x6b, 0x72, 0x80};
};

} // namespace gh::ui
