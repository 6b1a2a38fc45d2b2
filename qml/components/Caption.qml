import QtQuick
import QtQuick.Controls.Basic

// Secondary text: labels of figures, hints, column headers.
Label {
    font.pixelSize: Theme.fontSmall
    color: Theme.textMuted
}
