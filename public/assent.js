// Assent customer pages: optional progressive enhancement. Every page works without this file.
// - focuses the error message on load (for browsers that ignore autofocus on non-form elements);
// - adds a "Select all accounts" / "Clear selection" toggle to multi-account choices.
(function () {
  'use strict';

  function focusAlert() {
    var alert = document.querySelector('[data-autofocus]');
    if (alert && document.activeElement !== alert) alert.focus();
  }

  function enhanceSelectAll(fieldset) {
    var selectAll = fieldset.getAttribute('data-select-all');
    var selectNone = fieldset.getAttribute('data-select-none');
    var boxes = Array.prototype.slice.call(fieldset.querySelectorAll('input[type="checkbox"]:not(:disabled)'));
    if (!selectAll || !selectNone || boxes.length < 2) return;

    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button--link select-all';

    function allChecked() {
      return boxes.every(function (box) { return box.checked; });
    }
    function update() {
      button.textContent = allChecked() ? selectNone : selectAll;
    }

    button.addEventListener('click', function () {
      var check = !allChecked();
      boxes.forEach(function (box) { box.checked = check; });
      update();
    });
    boxes.forEach(function (box) { box.addEventListener('change', update); });
    update();

    var hint = fieldset.querySelector('.hint');
    if (hint && hint.parentNode === fieldset) hint.insertAdjacentElement('afterend', button);
    else fieldset.insertBefore(button, fieldset.querySelector('.choice'));
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll('fieldset[data-select-all]'), enhanceSelectAll);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
  // after the browser's own autofocus handling, which runs before `load`
  window.addEventListener('load', focusAlert);
})();
