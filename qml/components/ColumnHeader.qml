import QtQuick
import QtQuick.Controls.Basic

// The header of a table column.
Label {
    font.pixelSize: Theme.fontCaption
    font.weight: Font.DemiBold
    font.capitalization: Font.AllUppercase
    font.letterSpacing: 0.4
    color: Theme.textMuted
    elide: Text.ElideRight
}
