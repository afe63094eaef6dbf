// The rule builder of a segment's change form. Loaded as a static file (no inline script): it
// reads the fields, their operators (and how they read) and choices from the fields endpoint,
// shows the rules saved in the form's JSON field as groups of conditions, and writes every change
// back into that field, which the server checks whole when the segment is saved. Without JavaScript the JSON field
// stays editable as text.
(function () {
  "use strict";
  const NO_VALUE = ["is_empty", "is_not_empty", "ever", "never"];
  const DAYS = ["within_days", "not_within_days"];
  const DATES = ["before", "after"];
  const TEXTS = ["equals", "not_equals", "contains", "not_contains", "starts_with"];

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(key, value);
      }
    }
    for (const child of children || []) {
      node.append(child);
    }
    return node;
  }

  function options(select, pairs, selected) {
    for (const [value, label] of pairs) {
      const option = element("option", {value: String(value), text: label});
      if ([].concat(selected).map(String).includes(String(value))) {
        option.selected = true;
      }
      select.append(option);
    }
    return select;
  }

  function start() {
    const root = document.getElementById("segment-rule-builder");
    const input = document.querySelector("textarea[name=rules]");
    if (!root || !input) {
      return;
    }
    fetch(root.dataset.fieldsUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => response.json())
      .then((body) => build(root, input, body));
  }

  function build(root, input, catalogue) {
    const fields = Object.fromEntries(catalogue.fields.map((field) => [field.name, field]));
    let rules;
    try {
      rules = JSON.parse(input.value || "{}");
    } catch (error) {
      return; // Text that is not JSON stays in the field, for the server to explain.
    }
    if (!rules || !rules.rules) {
      rules = {match: "all", rules: []};
    }
    input.closest(".form-row").hidden = true;

    function save() {
      input.value = rules.rules.length ? JSON.stringify(rules) : "{}";
      draw();
    }

    function valueInput(condition, field) {
      const op = condition.op;
      if (NO_VALUE.includes(op)) {
        return element("span");
      }
      let control;
      if (TEXTS.includes(op)) {
        control = element("input", {type: "text", value: condition.value || ""});
        control.addEventListener("input", () => { condition.value = control.value; input.value = JSON.stringify(rules); });
        return withClass(control);
      }
      if (DAYS.includes(op)) {
        control = element("input", {type: "number", min: "1", value: condition.value || ""});
        control.addEventListener("input", () => { condition.value = Number(control.value); input.value = JSON.stringify(rules); });
        return withClass(control);
      }
      if (DATES.includes(op)) {
        control = element("input", {type: "date", value: condition.value || ""});
        control.addEventListener("change", () => { condition.value = control.value; save(); });
        return withClass(control);
      }
      const campaigns = op === "in_campaigns" || op === "not_in_campaigns";
      const single = field.kind === "consent";
      control = options(element("select", single ? {} : {multiple: "multiple", size: "4"}),
        (campaigns ? field.campaigns : field.choices).map(([value, label]) => [value, label]),
        condition.value || []);
      control.addEventListener("change", () => {
        const chosen = Array.from(control.selectedOptions).map((option) => option.value);
        const numeric = campaigns || field.kind === "tags" ||
          ["source", "source.client", "import_batch"].includes(field.name);
        condition.value = single ? chosen[0] : chosen.map((value) => (numeric ? Number(value) : value));
        save();
      });
      if (single && !condition.value) {
        condition.value = control.value;
      }
      return withClass(control);
    }

    function withClass(control) {
      control.classList.add("rule-value");
      control.setAttribute("aria-label", "Value");
      return control;
    }

    function conditionRow(condition, parent) {
      const field = fields[condition.field] || catalogue.fields[0];
      const fieldSelect = options(element("select", {class: "rule-field", "aria-label": "Field"}),
        catalogue.fields.map((each) => [each.name, each.label]), field.name);
      fieldSelect.addEventListener("change", () => {
        const chosen = fields[fieldSelect.value];
        Object.assign(condition, {field: chosen.name, op: chosen.ops[0]});
        delete condition.value;
        save();
      });
      const opSelect = options(element("select", {class: "rule-op", "aria-label": "Operator"}),
        field.ops.map((op) => [op, catalogue.op_labels[op] || op]), condition.op);
      opSelect.addEventListener("change", () => {
        condition.op = opSelect.value;
        delete condition.value;
        save();
      });
      const remove = element("button", {type: "button", class: "rule-remove", text: "Remove"});
      remove.addEventListener("click", () => {
        parent.rules.splice(parent.rules.indexOf(condition), 1);
        save();
      });
      return element("li", {class: "rule-condition"}, [fieldSelect, opSelect, valueInput(condition, field), remove]);
    }

    function groupBox(group, parent, depth) {
      const match = options(element("select", {class: "group-match", "aria-label": "Join"}),
        [["all", "All of these (AND)"], ["any", "Any of these (OR)"]], group.match);
      match.addEventListener("change", () => { group.match = match.value; save(); });
      const list = element("ol", {class: "rule-list"});
      for (const child of group.rules) {
        list.append(child.rules ? groupBox(child, group, depth + 1) : conditionRow(child, group));
      }
      const addCondition = element("button", {type: "button", class: "rule-add", text: "Add condition"});
      addCondition.addEventListener("click", () => {
        const first = catalogue.fields[0];
        group.rules.push({field: first.name, op: first.ops[0]});
        save();
      });
      const buttons = [addCondition];
      if (depth < catalogue.max_depth) {
        const addGroup = element("button", {type: "button", class: "group-add", text: "Add group"});
        addGroup.addEventListener("click", () => {
          const first = catalogue.fields[0];
          group.rules.push({match: "any", rules: [{field: first.name, op: first.ops[0]}]});
          save();
        });
        buttons.push(addGroup);
      }
      if (parent) {
        const remove = element("button", {type: "button", class: "group-remove", text: "Remove group"});
        remove.addEventListener("click", () => {
          parent.rules.splice(parent.rules.indexOf(group), 1);
          save();
        });
        buttons.push(remove);
      }
      const tag = parent ? "li" : "div";
      return element(tag, {class: "rule-group"}, [match, list, element("p", {}, buttons)]);
    }

    function draw() {
      root.replaceChildren(groupBox(rules, null, 1));
    }

    draw();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
